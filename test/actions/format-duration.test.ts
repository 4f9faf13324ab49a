import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatDuration } from '../../src/actions/format-duration.ts';

it('formatDuration writes durations as a reason reads them', () => {
  assert.equal(formatDuration(300), '300ms');
  assert.equal(formatDuration(30_000), '30s');
  assert.equal(formatDuration(90_000), '1m 30s');
  assert.equal(formatDuration(10 * 60_000), '10m');
  assert.equal(formatDuration(5_400_000), '1h 30m');
});
