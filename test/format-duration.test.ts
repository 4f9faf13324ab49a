import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatDuration, formatTimeLimit } from '../src/format-duration.ts';

it('formatDuration writes durations as a reason reads them', () => {
  assert.equal(formatDuration(300), '300ms');
  assert.equal(formatDuration(30_000), '30s');
  assert.equal(formatDuration(90_000), '1m 30s');
  assert.equal(formatDuration(10 * 60_000), '10m');
  assert.equal(formatDuration(5_400_000), '1h 30m');
});

it('formatDuration prints whole units, the same on every surface, and never less than 0ms', () => {
  assert.equal(formatDuration(61_000), '1m 1s');
  assert.equal(formatDuration(65_400), '1m 5s');
  assert.equal(formatDuration(1_499), '1s');
  assert.equal(formatDuration(999.6), '1s');
  assert.equal(formatDuration(12.3), '12ms');
  assert.equal(formatDuration(-40), '0ms');
});

it("formatTimeLimit names the operator's limit when that is what stopped a command", () => {
  assert.equal(formatTimeLimit(30 * 60_000, undefined), '30m');
  assert.equal(formatTimeLimit(30 * 60_000, 10 * 60_000), "10m (the operator's ssh.command_timeout)");
});
