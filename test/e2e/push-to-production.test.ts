/**
 * The whole story, as a team runs it (the seed's own scenario): a build host
 * and two app hosts (real sshd) behind HAProxy, Sluice started as `npm
 * start` starts it — a process of its own — with GitHub and Slack stand-ins.
 * `sluice run` from a checkout puts v0 out first; then v1 and v2 are pushed,
 * each built, deployed to dev, approved in Slack and rolled out to
 * production while a monitor sends a request every 20 ms through the load
 * balancer. No request may fail, and every host must serve v2 at the end.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SERVICE_HOSTS, fixtureAppFiles, fixturePipeline, startAppBed, type AppBed } from '../helpers/app-bed.ts';
import { GithubStandIn, type RecordedCall } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import type { MonitorReport } from '../helpers/request-monitor.ts';
import { runSluice } from '../helpers/run-sluice.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';
import { buttonClick, sendSlackRequest, signSlackRequest, SIGNING_SECRET } from '../helpers/slack-requests.ts';
import { sha } from '../helpers/slack-sluice.ts';
import { BOT_TOKEN, SlackStandIn, type SlackMessage } from '../helpers/slack-stand-in.ts';
import { until as waitUntil } from '../helpers/until.ts';

const REPO = 'acme/shop';
const CHANNEL = 'C0RELEASES';
const APPROVER = 'U0RELEASE';
const WEBHOOK_SECRET = 'e2e-webhook-secret';

const PIPELINE = fixturePipeline({
  fixture: 'app-through-dev',
  buildHost: 'builder',
  run: ['node --check server.js', 'echo "built $(cat VERSION)"'],
});

let bed: AppBed;
let github: GithubStandIn;
let slack: SlackStandIn;
let sluice: SluiceProcess | undefined;
let sluiceUrl = '';
let configFile = '';
const work = () => bed.checkout.scratch;
const appFiles = (version: string) => fixtureAppFiles(version, PIPELINE);

const until = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>) =>
  waitUntil(what, probe, {
    timeoutMs: 90_000,
    explain: () => `Sluice said:\n${sluice?.output().slice(-4000)}\nGitHub was last told:\n${lastCheckRuns()}`,
  });

/** Each check run of a commit by name: its status (and conclusion) as created, then after every update. */
function checkRunHistory(commit: string): Record<string, string[]> {
  const names = new Map<number, string>();
  const history: Record<string, string[]> = {};
  for (const call of github.calls) {
    if (
      call.method === 'POST' &&
      call.path === `/repos/${REPO}/check-runs` &&
      call.body?.head_sha === commit &&
      call.status === 201
    ) {
      names.set(Number(call.response?.id), String(call.body.name));
      history[String(call.body.name)] = [state(call)];
    }
    const update = /\/check-runs\/(\d+)$/.exec(call.path);
    if (call.method === 'PATCH' && update && names.has(Number(update[1])))
      history[names.get(Number(update[1]))!]!.push(state(call));
  }
  for (const [name, states] of Object.entries(history)) history[name] = states.filter((s, i) => s !== states[i - 1]);
  return history;
}

/** The newest title and text of each check run, for a failure message. */
function lastCheckRuns(): string {
  const runs = new Map<string, string>();
  for (const call of github.calls) {
    const output = call.body?.output as { title?: string; summary?: string; text?: string } | undefined;
    if (call.body?.name && output)
      runs.set(
        `${String(call.body.name)} ${String(call.body.head_sha ?? '').slice(0, 7)}`,
        `${output.title}\n${output.summary}\n${(output.text ?? '').slice(-1500)}`,
      );
  }
  return [...runs].map(([name, text]) => `--- ${name}: ${text}`).join('\n');
}

const state = (call: RecordedCall) =>
  `${String(call.body?.status)}${call.body?.conclusion ? `:${String(call.body.conclusion)}` : ''}`;

/** The Deployments of a commit: environment, then each status in order. */
function deploymentsOf(commit: string): string[] {
  const byId = new Map<number, string[]>();
  for (const call of github.calls) {
    if (call.method === 'POST' && call.path === `/repos/${REPO}/deployments` && call.body?.ref === commit)
      byId.set(Number(call.response?.id), [String(call.body.environment)]);
    const status = /\/deployments\/(\d+)\/statuses$/.exec(call.path);
    if (call.method === 'POST' && status && byId.has(Number(status[1])))
      byId.get(Number(status[1]))!.push(String(call.body?.state));
  }
  return [...byId.values()].map((d) => d.join(' → '));
}

function completed(commit: string, name: string): string | undefined {
  const states = checkRunHistory(commit)[name];
  const last = states?.at(-1);
  return last?.startsWith('completed') ? last : undefined;
}

/** Pushes version n, approves its card in Slack, and watches the load balancer until production is done. */
async function pushAndRelease(
  n: number,
  version: string,
): Promise<{ report: MonitorReport; card: SlackMessage; doneAt: number }> {
  github.addCommit(REPO, sha(n), appFiles(version), { message: `Release ${version}` });
  const monitor = await bed.startMonitor();
  const reply = await sendWebhook(
    sluiceUrl,
    WEBHOOK_SECRET,
    'push',
    pushPayload({ repo: REPO, ...(n > 1 && { before: sha(n - 1) }), after: sha(n), message: `Release ${version}` }),
  );
  assert.equal(reply.status, 200);
  const card = await until(`the approval card of ${version}`, () => {
    const found = slack.cards(CHANNEL).find((m) => m.text.includes(sha(n).slice(0, 7)));
    return found && found.blocks.some((b) => b.type === 'actions') ? structuredClone(found) : undefined;
  });
  const click = await sendSlackRequest(sluiceUrl, signSlackRequest(buttonClick(card, 'sluice_approve', APPROVER)));
  assert.equal(click.status, 200);
  await until(`production of ${version} to finish on GitHub`, () => completed(sha(n), 'Sluice: production'));
  const doneAt = Date.now();
  await monitor.waitForMore(25);
  return { report: await monitor.stop(), card, doneAt };
}

before(async () => {
  bed = await startAppBed({ ...SERVICE_HOSTS, dev: true, appEnv: 'STARTUP_DELAY_MS=400\n' });
  github = await new GithubStandIn().start();
  github.install(REPO);
  slack = await new SlackStandIn().start();
  // The releases channel, with Sluice's bot invited to it.
  slack.channels.set(CHANNEL, { name: 'releases', member: false });
  slack.invite(CHANNEL);
  slack.join(CHANNEL, [APPROVER]);
  configFile = bed.writeServerConfig({ approval: { channel: CHANNEL, approvers: [APPROVER] } });
  bed.checkout.write('VERSION', 'v0\n');
  bed.checkout.write('.github/sluice.yml', PIPELINE);
  bed.checkout.commit('v0');
});

after(async () => {
  await sluice?.stop();
  await bed?.stop();
  await github?.stop();
  await slack?.stop();
});

describe('from git push to production', { timeout: 420_000 }, () => {
  test('sluice run puts v0 out from a local checkout, printing each stage as it goes', async () => {
    const result = await runSluice(
      ['run', '--server', configFile, '--data-dir', join(work(), 'cli-data'), '--approve', 'yes'],
      { cwd: bed.checkout.dir, timeoutMs: 120_000 },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const stages = [...result.stdout.matchAll(/^(?:✓|▶|\?) (\w+) (running|succeeded)/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(stages, [
      'build running',
      'build succeeded',
      'dev running',
      'dev succeeded',
      'production running',
      'production succeeded',
    ]);
    assert.match(result.stdout, /build\/package │ built v0/);
    for (const host of ['host2', 'host3']) await bed.lb.waitUntilUp(host);
    assert.equal(await bed.served('host2'), 'v0');
  });

  test('Sluice starts as `npm start` does, as a GitHub App and a Slack app', async () => {
    const port = await freeLoopbackPort();
    sluice = await startSluiceProcess({
      cwd: work(),
      port,
      env: {
        SLUICE_CONFIG: configFile,
        SLUICE_DATA_DIR: join(work(), 'data'),
        ...githubAppEnv(github, WEBHOOK_SECRET),
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
      },
    });
    sluiceUrl = sluice.url;
    assert.match(
      sluice.output(),
      new RegExp(
        `Sluice listening on port ${port} as ${sluiceUrl} \\(state in .*data; Slack at ${sluiceUrl}/slack/events\\)`,
      ),
    );
  });

  test('v1: pushed, built on the build host, deployed to dev, approved in Slack, rolled out with zero failed requests', async (t) => {
    const { report, doneAt } = await pushAndRelease(1, 'v1');
    t.diagnostic(`sent ${report.sent}, failed ${report.failed}, versions ${JSON.stringify(report.versions)}`);
    assert.deepEqual(report.failures, []);
    assert.ok((report.versions.v0 ?? 0) > 0, 'v0 answered before');
    assert.deepEqual(new Set(report.timeline.filter((s) => s.at > doneAt).map((s) => s.version)), new Set(['v1']));
  });

  test('v2: the same, and GitHub, Slack, the hosts and the pipeline page all tell the same story', async (t) => {
    const { report, card, doneAt } = await pushAndRelease(2, 'v2');
    t.diagnostic(`sent ${report.sent}, failed ${report.failed}, versions ${JSON.stringify(report.versions)}`);
    assert.deepEqual(report.failures, []);
    assert.deepEqual(new Set(report.timeline.filter((s) => s.at > doneAt).map((s) => s.version)), new Set(['v2']));
    for (const host of ['host2', 'host3']) assert.equal(await bed.served(host), 'v2', `${host} serves v2`);
    assert.equal(await bed.served('host1'), 'v2', 'dev serves v2');

    // GitHub: a check run per stage, queued → in progress → success; a Deployment per environment.
    await until('the last GitHub writes', () =>
      deploymentsOf(sha(2)).every((d) => d.endsWith('success')) && deploymentsOf(sha(2)).length === 2
        ? true
        : undefined,
    );
    const runs = checkRunHistory(sha(2));
    assert.deepEqual(Object.keys(runs).sort(), ['Sluice: build', 'Sluice: dev', 'Sluice: production']);
    for (const [name, states] of Object.entries(runs)) {
      // Created when the execution starts, then moved on. GitHub hears of each state at most once a second,
      // so a state that passed in between is skipped — never one out of order, never a failure.
      const order = ['queued', 'in_progress', 'completed:success'];
      assert.deepEqual(
        states,
        order.filter((s) => states.includes(s)),
        `${name} moves forward: ${states.join(', ')}`,
      );
      assert.equal(states.at(-1), 'completed:success', `${name} ends green: ${states.join(', ')}`);
    }
    assert.equal(runs['Sluice: production']?.[0], 'queued', 'production was shown queued before it ran');
    assert.deepEqual(deploymentsOf(sha(2)), [
      'dev → queued → in_progress → success',
      'production → queued → in_progress → success',
    ]);
    assert.ok(
      github.calls.some((c) => c.method === 'POST' && c.body?.state === 'inactive'),
      'the v1 Deployments were retired',
    );

    // Slack: the card was posted open, then approved, then the deploy reported in its thread.
    const final = slack.messages.get(card.ts)!;
    const headers = final.history.map((v) => String((v.blocks[0]?.text as { text: string }).text).split(' · ')[0]);
    assert.equal(headers[0], 'Deploy to production?');
    assert.equal(headers.at(-1), '✅ Approved for production');
    assert.match(JSON.stringify(final.blocks), new RegExp(`Approved by <@${APPROVER}>`));
    assert.match(
      JSON.stringify(final.history[0]!.blocks),
      new RegExp(`1 commit since what production runs, \`${sha(1).slice(0, 7)}\``),
    );
    const thread = slack.replies(card.ts).map((m) => m.text);
    assert.match(thread[0] ?? '', /^🚀 Deploying/);
    assert.match(thread.at(-1) ?? '', /^✅ \*production\* runs `[0-9a-f]{7}` now/);

    // The pipeline page, from the check run's Details link: the execution is green.
    const details = String(
      github.calls.find(
        (c) => c.body?.name === 'Sluice: production' && c.body.head_sha === sha(2) && c.body.details_url,
      )?.body?.details_url,
    );
    assert.ok(details.startsWith(`${sluiceUrl}/executions/`), details);
    const page = await (await fetch(details)).text();
    assert.match(page, /id="execution-status">succeeded</);
    assert.equal((page.match(/class="box succeeded"/g) ?? []).length, 3);
  });
});
