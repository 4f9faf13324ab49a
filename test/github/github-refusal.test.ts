import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RefusalLog, refusalOf } from '../../src/github/github-refusal.ts';

/** An error as Octokit throws it for an answer: a status and the response, headers and data. */
function answer(status: number, data: unknown, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error('HttpError'), {
    name: 'HttpError',
    status,
    response: { status, url: '', headers, data },
  });
}

describe('what counts as GitHub refusing a write', () => {
  test('422, 403 and 404 are refusals, told with GitHub’s message and the errors it lists', () => {
    const bytes = answer(422, {
      message: 'Validation Failed',
      errors: [
        { resource: 'CheckRun', code: 'custom', field: 'text', message: 'text exceeds a maximum bytesize of 65535' },
      ],
    });
    assert.deepEqual(refusalOf(bytes), {
      status: 422,
      message: 'Validation Failed: text exceeds a maximum bytesize of 65535',
    });
    assert.deepEqual(refusalOf(answer(403, { message: 'Resource not accessible by integration' })), {
      status: 403,
      message: 'Resource not accessible by integration',
    });
    assert.deepEqual(
      refusalOf(
        answer(422, { message: 'Invalid request.\n\nOnly 65535 characters are allowed; 85289 were supplied.' }),
      ),
      { status: 422, message: 'Invalid request. Only 65535 characters are allowed; 85289 were supplied.' },
    );
    assert.equal(refusalOf(answer(404, { message: 'Not Found' }))?.status, 404);
  });

  test('a rate limit, a server error, bad credentials or no answer at all are not: those are tried again', () => {
    assert.equal(
      refusalOf(answer(403, { message: 'You have exceeded a secondary rate limit.' }, { 'retry-after': '60' })),
      undefined,
    );
    assert.equal(
      refusalOf(answer(403, { message: 'API rate limit exceeded' }, { 'x-ratelimit-remaining': '0' })),
      undefined,
    );
    assert.equal(refusalOf(answer(429, { message: 'Too many requests' })), undefined);
    assert.equal(refusalOf(answer(502, { message: 'Server Error' })), undefined);
    assert.equal(refusalOf(answer(401, { message: 'Bad credentials' })), undefined);
    assert.equal(refusalOf(new Error('socket hang up')), undefined);
  });

  test('the same refusal is told once', () => {
    const lines: string[] = [];
    const log = new RefusalLog((line) => lines.push(line), 2);
    const refusal = { status: 422, message: 'Validation Failed' };
    for (let i = 0; i < 5; i++)
      log.note('check run "Sluice: build" of acme/shop execution #1', refusal, 'Sluice sent it with less of the log');
    log.note('check run "Sluice: dev" of acme/shop execution #1', refusal, 'Sluice sent it with less of the log');
    assert.deepEqual(lines, [
      'GitHub refused the check run "Sluice: build" of acme/shop execution #1 (422 Validation Failed); Sluice sent it with less of the log.',
      'GitHub refused the check run "Sluice: dev" of acme/shop execution #1 (422 Validation Failed); Sluice sent it with less of the log.',
    ]);
  });
});
