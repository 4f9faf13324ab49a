/**
 * Sluice's logger: JSON lines as Probot writes them with LOG_FORMAT=json,
 * Probot's pretty lines otherwise, and no secret in any part of any line.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { createLogger, probotLogger } from '../../src/log/create-logger.ts';

const SECRET = 'hunter2-very-secret-token';

function capture(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createLogger({ secrets: [SECRET], ...options, write: (line) => lines.push(line) });
  return { logger, lines };
}

test('LOG_FORMAT=json: one JSON object a line with level, time, msg and the ids of its child logger', () => {
  const { logger, lines } = capture({ format: 'json' });
  logger.child({ execution: 'e1', stage: 'build', action: 'compile' }).info('build/compile started');
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('\n'));
  const record = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(record.level, 30);
  assert.equal(typeof record.time, 'number');
  assert.equal(record.msg, 'build/compile started');
  assert.deepEqual([record.execution, record.stage, record.action], ['e1', 'build', 'compile']);
});

test('LOG_LEVEL_IN_STRING writes the level as its name', () => {
  const { logger, lines } = capture({ format: 'json', levelInString: true });
  logger.warn('careful');
  assert.equal((JSON.parse(lines[0]!) as { level: unknown }).level, 'warn');
});

test('a secret is masked in the message, in every string field, however deep, and in an error’s stack', () => {
  const { logger, lines } = capture({ format: 'json' });
  logger
    .child({ repo: `acme/${SECRET}` })
    .error({ request: { headers: { authorization: `token ${SECRET}` } }, list: [SECRET] }, `token ${SECRET} refused`);
  logger.error(new Error(`bad ${SECRET}`), 'failed');
  const text = lines.join('');
  assert.doesNotMatch(text, /hunter2/);
  const first = JSON.parse(lines[0]!) as {
    msg: string;
    repo: string;
    request: { headers: { authorization: string } };
    list: string[];
  };
  assert.equal(first.msg, 'token *** refused');
  assert.equal(first.repo, 'acme/***');
  assert.equal(first.request.headers.authorization, 'token ***');
  assert.deepEqual(first.list, ['***']);
  const second = JSON.parse(lines[1]!) as { err: { message: string; stack: string } };
  assert.equal(second.err.message, 'bad ***');
  assert.match(second.err.stack, /^Error: bad \*\*\*/);
});

test('a secret is masked where it is a field’s name, and in an error’s cause', () => {
  const { logger, lines } = capture({ format: 'json' });
  logger.warn({ tokens: { [SECRET]: 'seen' } }, 'by token');
  logger.error(new Error('Slack refused', { cause: new Error(`invalid_auth for ${SECRET}`) }), 'failed');
  assert.doesNotMatch(lines.join(''), /hunter2/);
  assert.deepEqual((JSON.parse(lines[0]!) as { tokens: unknown }).tokens, { '***': 'seen' });
});

test('a key is hidden line by line, quickly: a line of it shows nowhere', () => {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
  const { logger, lines } = capture({ format: 'json', keys: [key] });
  const body = key.split('\n')[3]!;
  logger.info({ header: `Bearer ${body}` }, `key line ${body} here`);
  const record = JSON.parse(lines[0]!) as { msg: string; header: string };
  assert.equal(record.msg, 'key line *** here');
  assert.equal(record.header, 'Bearer ***');
});

test('the default format is Probot’s readable line for a terminal, masked too', () => {
  const { logger, lines } = capture();
  logger.info(`Sluice listening with ${SECRET}`);
  assert.equal(stripVTControlCharacters(lines.join('')), 'INFO (sluice): Sluice listening with ***\n');
});

test('Probot’s child logs at its own level (warn unless LOG_LEVEL says), Sluice’s from info', () => {
  const { logger, lines } = capture({ format: 'json' });
  const probot = probotLogger(logger, undefined);
  probot.info('probot chatter');
  probot.warn('probot warning');
  logger.info('sluice line');
  assert.deepEqual(
    lines.map((line) => (JSON.parse(line) as { msg: string }).msg),
    ['probot warning', 'sluice line'],
  );
  const verbose = capture({ format: 'json', level: 'debug' });
  probotLogger(verbose.logger, 'debug').debug('probot detail');
  assert.equal(verbose.lines.length, 1);
});
