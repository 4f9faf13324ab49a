/**
 * Each release command builder's output, to the letter: what a host's shell
 * is given for a deploy is read here, so a change to it is seen in review.
 * One path with a space and a quote shows where quoting applies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  currentNotLinkCommand,
  httpProbeCommand,
  listReleasesCommand,
  parseCurrent,
  prepareCommand,
  readCurrentCommand,
  readReleaseAppCommand,
  releaseId,
  releasePaths,
  releasePresentCommand,
  releasesToPrune,
  removeReleasesCommand,
  switchCommand,
  unpackCommand,
} from '../../src/deploy/release-commands.ts';

const plain = releasePaths('/srv/app');
const odd = releasePaths("/srv/it's app");
const id = '20261202T020000Z-7-abc1234';

describe('release command builders', () => {
  it('lays out releases, current and incoming under the root', () => {
    assert.deepEqual(plain, {
      root: '/srv/app',
      releases: '/srv/app/releases',
      current: '/srv/app/current',
      incoming: '/srv/app/.sluice/incoming',
    });
  });

  it('names a release by time, execution and short sha', () => {
    assert.equal(
      releaseId(new Date('2026-12-02T02:00:00.123Z'), 7, 'abc1234def5678abc1234def5678abc1234def5'),
      '20261202T020000Z-7-abc1234',
    );
  });

  it('prepareCommand', () => {
    assert.equal(prepareCommand(plain), 'mkdir -p -- /srv/app/releases /srv/app/.sluice/incoming');
    assert.equal(prepareCommand(odd), `mkdir -p -- '/srv/it'\\''s app/releases' '/srv/it'\\''s app/.sluice/incoming'`);
  });

  it('unpackCommand', () => {
    assert.equal(
      unpackCommand(plain, id, '/srv/app/.sluice/incoming/app.tar.gz'),
      'rm -rf -- /srv/app/.sluice/incoming/20261202T020000Z-7-abc1234.partial' +
        ' && mkdir -p -- /srv/app/.sluice/incoming/20261202T020000Z-7-abc1234.partial' +
        ' && tar -xzf /srv/app/.sluice/incoming/app.tar.gz -C /srv/app/.sluice/incoming/20261202T020000Z-7-abc1234.partial --no-same-owner' +
        ' && mkdir -p -- /srv/app/.sluice/incoming/20261202T020000Z-7-abc1234.partial/.sluice' +
        ' && cat > /srv/app/.sluice/incoming/20261202T020000Z-7-abc1234.partial/.sluice/app.json' +
        ' && mv -T -- /srv/app/.sluice/incoming/20261202T020000Z-7-abc1234.partial /srv/app/releases/20261202T020000Z-7-abc1234' +
        ' && rm -f -- /srv/app/.sluice/incoming/app.tar.gz',
    );
    assert.equal(
      unpackCommand(odd, id, "/srv/it's app/.sluice/incoming/a.tar.gz"),
      `rm -rf -- '/srv/it'\\''s app/.sluice/incoming/${id}.partial'` +
        ` && mkdir -p -- '/srv/it'\\''s app/.sluice/incoming/${id}.partial'` +
        ` && tar -xzf '/srv/it'\\''s app/.sluice/incoming/a.tar.gz' -C '/srv/it'\\''s app/.sluice/incoming/${id}.partial' --no-same-owner` +
        ` && mkdir -p -- '/srv/it'\\''s app/.sluice/incoming/${id}.partial/.sluice'` +
        ` && cat > '/srv/it'\\''s app/.sluice/incoming/${id}.partial/.sluice/app.json'` +
        ` && mv -T -- '/srv/it'\\''s app/.sluice/incoming/${id}.partial' '/srv/it'\\''s app/releases/${id}'` +
        ` && rm -f -- '/srv/it'\\''s app/.sluice/incoming/a.tar.gz'`,
    );
  });

  it('switchCommand', () => {
    assert.equal(
      switchCommand(plain, id),
      'test -d /srv/app/releases/20261202T020000Z-7-abc1234' +
        ' && ln -sfn -- releases/20261202T020000Z-7-abc1234 /srv/app/.current-20261202T020000Z-7-abc1234' +
        ' && mv -T -- /srv/app/.current-20261202T020000Z-7-abc1234 /srv/app/current',
    );
    assert.equal(
      switchCommand(odd, id),
      `test -d '/srv/it'\\''s app/releases/${id}'` +
        ` && ln -sfn -- releases/${id} '/srv/it'\\''s app/.current-${id}'` +
        ` && mv -T -- '/srv/it'\\''s app/.current-${id}' '/srv/it'\\''s app/current'`,
    );
  });

  it('readCurrentCommand', () => {
    assert.equal(readCurrentCommand(plain), 'readlink -- /srv/app/current || true');
    assert.equal(readCurrentCommand(odd), `readlink -- '/srv/it'\\''s app/current' || true`);
  });

  it('currentNotLinkCommand', () => {
    assert.equal(
      currentNotLinkCommand(plain),
      'if [ -e /srv/app/current ] && [ ! -L /srv/app/current ]; then echo not-a-link; fi',
    );
    assert.equal(
      currentNotLinkCommand(odd),
      `if [ -e '/srv/it'\\''s app/current' ] && [ ! -L '/srv/it'\\''s app/current' ]; then echo not-a-link; fi`,
    );
  });

  it('releasePresentCommand', () => {
    assert.equal(
      releasePresentCommand(plain, id),
      'test -d /srv/app/releases/20261202T020000Z-7-abc1234 && echo present || true',
    );
  });

  it('readReleaseAppCommand', () => {
    assert.equal(
      readReleaseAppCommand(plain, id),
      'cat -- /srv/app/releases/20261202T020000Z-7-abc1234/.sluice/app.json 2>/dev/null || true',
    );
  });

  it('listReleasesCommand', () => {
    assert.equal(listReleasesCommand(plain), 'ls -1 -- /srv/app/releases 2>/dev/null || true');
    assert.equal(listReleasesCommand(odd), `ls -1 -- '/srv/it'\\''s app/releases' 2>/dev/null || true`);
  });

  it('removeReleasesCommand', () => {
    assert.equal(removeReleasesCommand(plain, ['a', 'b c']), `rm -rf -- /srv/app/releases/a '/srv/app/releases/b c'`);
  });

  it('httpProbeCommand', () => {
    assert.equal(
      httpProbeCommand('http://127.0.0.1:8080/health', 5),
      'if command -v curl >/dev/null 2>&1; then' +
        ' curl -fsS -o /dev/null --max-time 5 -- http://127.0.0.1:8080/health;' +
        ' else wget -q -O /dev/null -T 5 -- http://127.0.0.1:8080/health; fi',
    );
    assert.equal(
      httpProbeCommand('http://127.0.0.1/health?a=1&b=$(x)', 2),
      'if command -v curl >/dev/null 2>&1; then' +
        ` curl -fsS -o /dev/null --max-time 2 -- 'http://127.0.0.1/health?a=1&b=$(x)';` +
        ` else wget -q -O /dev/null -T 2 -- 'http://127.0.0.1/health?a=1&b=$(x)'; fi`,
    );
  });

  it('parseCurrent reads the id out of a link target', () => {
    assert.equal(parseCurrent(`releases/${id}\n`), id);
    assert.equal(parseCurrent('\n'), undefined);
  });

  it('releasesToPrune keeps the newest, current and previous, and skips dot entries', () => {
    const ids = ['20261201T000000Z-1-a', '20261201T000000Z-2-b', '20261201T000000Z-3-c', '20261201T000000Z-4-d', '.x'];
    assert.deepEqual(releasesToPrune(ids, 2, ['20261201T000000Z-1-a', undefined]), ['20261201T000000Z-2-b']);
  });
});
