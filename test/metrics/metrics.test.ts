/**
 * The operator's metrics, read the way an operator reads them: by Debian's
 * Prometheus. `promtool check metrics` must accept the text, and a real
 * Prometheus scraping Sluice with the bearer token must see the execution
 * that waits for approval.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSlackSluice, type SlackSluice } from '../helpers/slack-sluice.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';

const TOKEN = 'metrics-token-0123456789abcdef';
let app: SlackSluice;

before(async () => {
  app = await startSlackSluice({ settings: { metricsToken: TOKEN } });
  await app.push(1, 'v1');
});
after(() => app?.close());

async function scrape(token = TOKEN): Promise<Response> {
  return fetch(`${app.sluice.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
}

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const line = text
    .split('\n')
    .find((l) =>
      l.startsWith(`${name}{`) || l.startsWith(`${name} `)
        ? Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))
        : false,
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('the metrics say what the store holds and what this process did', async () => {
  const reply = await scrape();
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers.get('content-type')), /^text\/plain; version=0\.0\.4/);
  const text = await reply.text();
  assert.equal(
    sample(text, 'sluice_executions', { repo: 'acme/shop', pipeline: '.github/sluice.yml', state: 'running' }),
    1,
  );
  assert.equal(sample(text, 'sluice_approvals_waiting', { repo: 'acme/shop' }), 1);
  assert.ok(
    Number.isFinite(sample(text, 'sluice_approval_oldest_wait_seconds', { repo: 'acme/shop' })),
    'the waiting approval has an age',
  );
  assert.equal(sample(text, 'sluice_webhook_inbox_depth'), 0);
  assert.equal(sample(text, 'sluice_store_up'), 1);
  assert.equal(sample(text, 'sluice_deploys_total', { environment: 'dev', outcome: 'succeeded' }), 1);
  assert.equal(
    sample(text, 'sluice_action_duration_seconds_count', { repo: 'acme/shop', kind: 'build', outcome: 'succeeded' }),
    1,
  );
  assert.equal(
    sample(text, 'sluice_stage_duration_seconds_count', { repo: 'acme/shop', stage: 'dev', outcome: 'succeeded' }),
    1,
  );
  assert.ok(
    (sample(text, 'sluice_api_calls_total', { service: 'github', outcome: 'ok' }) ?? 0) > 0,
    'GitHub calls counted',
  );
  assert.ok(
    (sample(text, 'sluice_api_calls_total', { service: 'slack', outcome: 'ok' }) ?? 0) > 0,
    'Slack calls counted',
  );
  assert.ok(sample(text, 'sluice_process_resident_memory_bytes') !== undefined, "the process's own metrics");
});

test('without the token the metrics stay closed, and say how to open them', async () => {
  const anonymous = await fetch(`${app.sluice.url}/metrics`);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="sluice metrics"');
  assert.doesNotMatch(await anonymous.text(), /acme/);
  assert.equal((await scrape('metrics-token-0123456789abcdeX')).status, 401);
});

test('promtool accepts the text as Prometheus exposition format', async () => {
  const text = await (await scrape()).text();
  const promtool = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  promtool.stdout.on('data', (d: Buffer) => (output += d.toString()));
  promtool.stderr.on('data', (d: Buffer) => (output += d.toString()));
  promtool.stdin.end(text);
  const code = await new Promise<number | null>((resolve, reject) => {
    promtool.on('error', (error) =>
      reject(new Error(`promtool is missing: install Debian's prometheus package (.ci/run does): ${error.message}`)),
    );
    promtool.on('close', resolve);
  });
  assert.equal(code, 0, output);
  assert.equal(output.trim(), '', 'no lint complaint');
});

test(
  'a real Prometheus scrapes Sluice with the bearer token and sees the approval waiting',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-prometheus-'));
    const port = await freeLoopbackPort();
    const target = new URL(app.sluice.url).host;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: sluice
    authorization: { credentials: ${TOKEN} }
    static_configs: [{ targets: ["${target}"] }]
`,
    );
    const prometheus: ChildProcess = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    prometheus.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const query = async (expr: string) => {
        const reply = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`).catch(
          () => undefined,
        );
        if (!reply?.ok) return undefined;
        const body = (await reply.json()) as { data: { result: Array<{ value: [number, string] }> } };
        return body.data.result[0]?.value[1];
      };
      let up: string | undefined;
      let waiting: string | undefined;
      const deadline = Date.now() + 90_000;
      while ((up !== '1' || waiting !== '1') && Date.now() < deadline && prometheus.exitCode === null) {
        up = await query('up{job="sluice"}');
        waiting = await query('sluice_approvals_waiting{job="sluice",repo="acme/shop"}');
        if (up !== '1' || waiting !== '1') await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.equal(up, '1', `Prometheus reached Sluice; its log:\n${log.slice(-2000)}`);
      assert.equal(waiting, '1');
    } finally {
      prometheus.kill('SIGTERM');
      await new Promise((resolve) => prometheus.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
