import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { formatProblem } from '../../src/config/config-problem.ts';
import { deployTarget } from '../../src/config/deploy-target.ts';
import { parseServerConfig } from '../../src/config/load-server-config.ts';
import { retentionRules } from '../../src/config/retention-rules.ts';
import { rollbackLimitMs } from '../../src/config/rollback-limit.ts';
import { resolveHosts } from '../../src/config/resolve-hosts.ts';
import { ServerRefusal } from '../../src/config/server-refusal.ts';
import { resolveSecrets } from '../../src/runner/resolve-secrets.ts';
import { messageForPeople } from '../../src/sluice-error.ts';

const example = readFileSync(new URL('../fixtures/config/product-server.yml', import.meta.url), 'utf8');

function problemsOf(text: string): string[] {
  const loaded = parseServerConfig(text, 'sluice.config.yml');
  return loaded.ok ? [] : loaded.problems.map(formatProblem);
}

function load(text: string) {
  const loaded = parseServerConfig(text, 'sluice.config.yml');
  assert.ok(loaded.ok, JSON.stringify(loaded));
  return loaded.config;
}

describe('the server config', () => {
  test('the example server config is valid and resolves to hosts and deploy targets', () => {
    const server = load(example);
    assert.deepEqual(resolveHosts(server, 'builder'), [
      { name: 'build1.internal', address: 'build1.internal', port: 22, user: 'deploy' },
    ]);
    const production = deployTarget(server, 'production', 'acme/shop');
    assert.deepEqual(production.hosts, [
      { name: 'web1', address: '10.0.1.11', port: 22, user: 'deploy' },
      { name: 'web2', address: '10.0.1.12', port: 2222, user: 'deploy' },
    ]);
    assert.equal(production.path, '/srv/app');
    assert.equal(production.batch, 1);
    assert.equal(production.minHealthy, 1);
    assert.equal(production.keepReleases, 5);
    assert.match(production.drain!, /set server app\/\{host\} state drain/);
    assert.deepEqual(
      deployTarget(server, 'dev', 'acme/shop').hosts.map((h) => h.name),
      ['dev1.internal'],
    );
  });

  test('short host forms: local, user@address:port', () => {
    const server = load(`ssh: { user: deploy, key: /k, known_hosts: /kh, port: 2200 }
hosts:
  mixed: [local, "ops@10.0.0.5:2222", "10.0.0.6", "[::1]:22"]
`);
    assert.deepEqual(resolveHosts(server, 'mixed'), [
      { name: 'local', address: 'local' },
      { name: '10.0.0.5', address: '10.0.0.5', port: 2222, user: 'ops' },
      { name: '10.0.0.6', address: '10.0.0.6', port: 2200, user: 'deploy' },
      { name: '::1', address: '::1', port: 22, user: 'deploy' },
    ]);
    assert.throws(
      () => resolveHosts(server, 'web'),
      /host group "web" is not defined in the server config \(it defines: mixed\)/,
    );
    assert.deepEqual(resolveHosts(undefined, 'local'), [{ name: 'local', address: 'local' }]);
    assert.throws(() => resolveHosts(undefined, 'builder'), /needs a server config that defines it; pass --server/);
  });

  test('mistakes are reported at their line with what to do instead', () => {
    const text = `hosts:
  builder: ["build 1"]
environments:
  production:
    hosts: webs
    path: srv/app
    rolling: { batch: 0, min_healthy: 120% }
    drain: "echo drain {host}"
    approval:
      slack_channel: "#deploys"
      approvers: [alice]
      timeout: 1 day
secrets:
  TOKEN: { env: TOKEN }
`;
    assert.deepEqual(problemsOf(text), [
      'sluice.config.yml:2:13: hosts.builder[0]: a host is `local`, an address such as deploy@10.0.1.11:2222, or { name, address, port, user }',
      'sluice.config.yml:6:11: environments.production.path: use an absolute directory on the hosts, such as /srv/app',
      'sluice.config.yml:7:39: environments.production.rolling.min_healthy: use a number of hosts or a percentage such as 25%',
      'sluice.config.yml:10:22: environments.production.approval.slack_channel: use the Slack id of the channel (starting with C or G), as its details in Slack show it',
      'sluice.config.yml:11:19: environments.production.approval.approvers[0]: use the Slack id of a user or user group (starting with U or W or S), as its details in Slack show it',
      'sluice.config.yml:12:16: environments.production.approval.timeout: write how long an approval waits before it expires as a duration such as 500ms, 30s, 5m, 1h30m or 24h',
      'sluice.config.yml:14:3: secrets.TOKEN: missing "repos"',
    ]);
  });

  test('slack: authors mapped to Slack users, and who may run each command, with mistakes at their line', () => {
    const server = load(`slack:
  people:
    alice: U0ALICE
    bob@example.com: W0BOB
  commands:
    run: [U0ANN, S0RELEASE]
    status: ["*"]
`);
    assert.deepEqual(server.slack, {
      people: { alice: 'U0ALICE', 'bob@example.com': 'W0BOB' },
      commands: { run: ['U0ANN', 'S0RELEASE'], status: ['*'] },
    });
    assert.deepEqual(
      problemsOf(`slack:
  people:
    alice: "@alice"
  commands:
    deploy: [U0ANN]
    run: [everyone]
  channel: C0123
`),
      [
        'sluice.config.yml:3:12: slack.people.alice: use the Slack id of a user (starting with U or W), as its details in Slack show it',
        'sluice.config.yml:5:5: slack.commands: unknown key "deploy" (allowed here: status, run, retry, cancel, rollback, lock, unlock, disable, enable)',
        'sluice.config.yml:6:11: slack.commands.run[0]: use "*" for everyone, or the Slack id of a user or user group (starting with U or W or S), as its details in Slack show it',
        'sluice.config.yml:7:3: slack: unknown key "channel" (allowed here: people, commands)',
      ],
    );
  });

  test('a host group is a list, or { hosts, repos }; a mistake inside the object form is reported where it is', () => {
    const server = load(
      `hosts:\n  builder: [local]\n  shared: { hosts: [local], repos: [acme/*] }\nlocal: { repos: [acme/ops] }\n`,
    );
    assert.deepEqual(server.hosts, { builder: ['local'], shared: { hosts: ['local'], repos: ['acme/*'] } });
    assert.deepEqual(problemsOf(`hosts:\n  shared: { hosts: [local], repo: [acme/*] }\n`), [
      'sluice.config.yml:2:29: hosts.shared: unknown key "repo" (did you mean "repos"?)',
    ]);
    assert.deepEqual(problemsOf(`hosts:\n  shared: { hosts: ["not a host"] }\n`), [
      'sluice.config.yml:2:21: hosts.shared.hosts[0]: a host is `local`, an address such as deploy@10.0.1.11:2222, or { name, address, port, user }',
    ]);
    assert.deepEqual(problemsOf(`local: { repos: [] }\n`), [
      'sluice.config.yml:1:17: local.repos: repos names who may run on the Sluice machine: owner/name, owner/* or *',
    ]);
  });

  test('rules across fields: host groups, ssh, drain pairs, feasible rolling plans, distinct host names', () => {
    const text = `hosts:
  web: ["10.0.0.1", "10.0.0.2"]
environments:
  staging:
    hosts: wbe
    path: /srv/app
  production:
    hosts: web
    path: /srv/app
    rolling: { batch: 1, min_healthy: 2 }
    drain: "echo drain {host}"
  twins:
    hosts: ["10.0.0.1", { name: "10.0.0.1", address: "10.0.0.9" }]
    path: /srv/app
`;
    assert.deepEqual(problemsOf(text), [
      'sluice.config.yml:2:3: hosts reached over SSH need an `ssh` section with user, key and known_hosts',
      'sluice.config.yml:5:12: host group "wbe" is not defined under hosts (did you mean "web"?)',
      'sluice.config.yml:10:5: environment "production" has 2 hosts and must keep 2 healthy, so no host can be taken out for the deploy; lower rolling.min_healthy or add hosts',
      'sluice.config.yml:11:5: drain without undrain would leave every host out of the load balancer after a deploy; add undrain',
      'sluice.config.yml:13:25: two hosts of "twins" are named "10.0.0.1"; give each a name of its own ({ name, address })',
    ]);
  });

  test('two environments whose names differ only in case are one on GitHub, so the second is refused where it is written', () => {
    const text = `environments:
  production:
    hosts: [local]
    path: /srv/app
  Production:
    hosts: [local]
    path: /srv/other
`;
    assert.deepEqual(problemsOf(text), [
      'sluice.config.yml:5:3: environment "Production" is "production" to GitHub, which compares environment names without case; give it a name of its own or merge the two',
    ]);
  });

  test('HAProxy drain through its runtime socket, or commands, but not both', () => {
    const server = load(`local: { repos: [acme/shop] }
environments:
  production:
    hosts: [local]
    path: /srv/app
    load_balancer: { haproxy: { socket: /run/haproxy.sock, backend: app, timeout: 30s } }
`);
    assert.deepEqual(deployTarget(server, 'production', 'acme/shop').haproxy, {
      socket: '/run/haproxy.sock',
      backend: 'app',
      timeoutMs: 30_000,
    });
    assert.deepEqual(
      problemsOf(`environments:
  production:
    hosts: [local]
    path: /srv/app
    drain: "echo drain {host}"
    undrain: "echo ready {host}"
    load_balancer: { haproxy: { socket: /run/haproxy.sock, backend: app } }
`),
      ['sluice.config.yml:7:5: use either load_balancer or drain/undrain commands, not both'],
    );
  });

  test('a repository may deploy only where the operator lets it', () => {
    const server = load(`local: { repos: ["*"] }
environments:
  production:
    hosts: [local]
    path: /srv/app/
    repos: ["acme/*"]
`);
    assert.equal(deployTarget(server, 'production', 'acme/shop').path, '/srv/app');
    // An environment on the Sluice machine also needs the machine's own grant.
    const ungranted = load(
      `local: { repos: [acme/ops] }\nenvironments:\n  production:\n    hosts: [local]\n    path: /srv/app\n`,
    );
    assert.throws(
      () => deployTarget(ungranted, 'production', 'acme/shop'),
      /environment "production" holds local, the Sluice machine.*acme\/shop may deploy to it only if the operator adds it to local\.repos/,
    );
    assert.throws(
      () => deployTarget(server, 'production', 'evil/shop'),
      /evil\/shop may not deploy to "production": the server config allows acme\/\*/,
    );
    assert.throws(
      () => deployTarget(server, 'staging', 'acme/shop'),
      /environment "staging" is not defined in the server config/,
    );
  });

  test('what the server config does not give a repository is a ServerRefusal, shown as it is, with what to change', () => {
    const server = load(`ssh: { user: deploy, key: /etc/sluice/id, known_hosts: /etc/sluice/known_hosts }
hosts:
  builder: [10.0.0.5]
environments:
  production:
    hosts: builder
    path: /srv/app
    repos: ["acme/*"]
secrets:
  TOKEN: { env: SLUICE_TEST_UNSET_VARIABLE, repos: ["acme/*"] }
  NPM: { file: /nonexistent/sluice/npm-token, repos: ["acme/*"] }
`);
    const refusal = (code: string, message: RegExp) => (error: unknown) => {
      assert.ok(error instanceof ServerRefusal, String(error));
      assert.equal(error.code, code);
      assert.equal(messageForPeople(error), error.message, 'shown as it is, without a stack');
      assert.match(error.message, message);
      return true;
    };
    assert.throws(() => deployTarget(server, 'production', 'evil/shop'), refusal('NOT_PERMITTED', /may not deploy/));
    assert.throws(() => deployTarget(server, 'staging', 'acme/shop'), refusal('NOT_IN_SERVER_CONFIG', /"staging"/));
    assert.throws(() => resolveHosts(server, 'web'), refusal('NOT_IN_SERVER_CONFIG', /host group "web"/));
    assert.throws(
      () => resolveSecrets(server, 'acme/shop', ['MISSING']),
      refusal(
        'NOT_IN_SERVER_CONFIG',
        /^secret "MISSING" is not defined in the server config; the operator adds it under secrets$/,
      ),
    );
    assert.throws(
      () => resolveSecrets(server, 'evil/shop', ['TOKEN']),
      refusal(
        'NOT_PERMITTED',
        /^secret "TOKEN" is not granted to evil\/shop \(the server config grants it to: acme\/\*\); the operator adds evil\/shop to its repos$/,
      ),
    );
    assert.throws(
      () => resolveSecrets(server, 'acme/shop', ['TOKEN']),
      refusal(
        'SECRET_NOT_SET',
        /^secret "TOKEN" reads environment variable SLUICE_TEST_UNSET_VARIABLE, which is not set: set it/,
      ),
    );
    assert.throws(
      () => resolveSecrets(server, 'acme/shop', ['NPM']),
      refusal(
        'SECRET_NOT_SET',
        /^secret "NPM" reads file \/nonexistent\/sluice\/npm-token, which Sluice cannot read \(ENOENT: no such file or directory, open '\/nonexistent\/sluice\/npm-token'\): put the value there/,
      ),
    );
  });

  test('ssh.rollback_timeout: 15 minutes unless the operator says otherwise; a bad or zero duration says what to write', () => {
    const ssh = 'ssh: { user: deploy, key: /etc/sluice/id, known_hosts: /etc/sluice/known_hosts';
    assert.equal(rollbackLimitMs(load('environments: {}\n')), 15 * 60_000);
    assert.equal(rollbackLimitMs(load(`${ssh} }\n`)), 15 * 60_000);
    assert.equal(rollbackLimitMs(load(`${ssh}, rollback_timeout: 40m }\n`)), 40 * 60_000);
    assert.deepEqual(problemsOf(`${ssh},\n  rollback_timeout: soon }\n`), [
      'sluice.config.yml:2:21: ssh.rollback_timeout: write the time limit for a rollback as a duration such as 500ms, 30s, 5m, 1h30m or 24h',
    ]);
    assert.deepEqual(problemsOf(`${ssh},\n  rollback_timeout: 0s }\n`), [
      'sluice.config.yml:2:21: ssh.rollback_timeout: give the rollback at least 1s to put hosts back, such as 15m',
    ]);
  });

  test('ssh.max_sessions and max_uploads: whole numbers of 1 or more; 0, negatives, fractions and text are refused at their place', () => {
    const ssh = 'ssh: { user: deploy, key: /etc/sluice/id, known_hosts: /etc/sluice/known_hosts';
    assert.equal(load(`${ssh}, max_sessions: 3, max_uploads: 1 }\n`).ssh?.max_sessions, 3);
    assert.deepEqual(problemsOf(`${ssh},\n  max_sessions: 0, max_uploads: -2 }\n`), [
      'sluice.config.yml:2:17: ssh.max_sessions: max_sessions is at least 1 (one at a time), such as 8',
      'sluice.config.yml:2:33: ssh.max_uploads: max_uploads is at least 1 (one at a time), such as 4',
    ]);
    assert.deepEqual(problemsOf(`${ssh},\n  max_sessions: 2.5, max_uploads: "8" }\n`), [
      'sluice.config.yml:2:17: ssh.max_sessions: expected a whole number, not number 2.5',
      'sluice.config.yml:2:35: ssh.max_uploads: expected a number, not the text "8"',
    ]);
    assert.deepEqual(problemsOf(`${ssh},\n  max_sessions: 1e20, max_uploads: 99999999999999999999 }\n`), [
      'sluice.config.yml:2:17: ssh.max_sessions: this number is too large to be read exactly; use a smaller one',
      'sluice.config.yml:2:36: ssh.max_uploads: this number is too large to be read exactly; use a smaller one',
    ]);
  });

  test('ssh.command_timeout and connect_timeout of 0 (written for "no limit") are refused with what to write', () => {
    const ssh = 'ssh: { user: deploy, key: /etc/sluice/id, known_hosts: /etc/sluice/known_hosts';
    assert.deepEqual(problemsOf(`${ssh},\n  command_timeout: 0s, connect_timeout: 0m }\n`), [
      'sluice.config.yml:2:20: ssh.command_timeout: give SSH commands a time limit above 0, such as 2h (leave `command_timeout` out for no limit beyond the pipeline’s)',
      'sluice.config.yml:2:41: ssh.connect_timeout: give connecting a time limit above 0, such as 30s',
    ]);
  });

  test('retention: a month of executions and a week of artifacts unless the operator says otherwise; a bad duration says how to write one', () => {
    assert.deepEqual(retentionRules(load('environments: {}\n')), {
      executionsMs: 30 * 86_400_000,
      artifactsMs: 7 * 86_400_000,
      webhookPayloadsMs: 7 * 86_400_000,
      webhookIdsMs: 30 * 86_400_000,
      workspacesMs: 86_400_000,
      intervalMs: 3_600_000,
    });
    const rules = retentionRules(
      load(
        'retention: { executions: 90d, artifacts: 2d, webhook_payloads: 1d, webhook_ids: 14d, workspaces: 6h, interval: 15m }\n',
      ),
    );
    assert.deepEqual(rules, {
      executionsMs: 90 * 86_400_000,
      artifactsMs: 2 * 86_400_000,
      webhookPayloadsMs: 86_400_000,
      webhookIdsMs: 14 * 86_400_000,
      workspacesMs: 6 * 3_600_000,
      intervalMs: 15 * 60_000,
    });
    assert.deepEqual(problemsOf('retention:\n  executions: a month\n  logs: 7d\n'), [
      'sluice.config.yml:2:15: retention.executions: write how long finished executions are kept as a duration such as 500ms, 30s, 5m, 1h30m or 24h',
      'sluice.config.yml:3:3: retention: unknown key "logs" (allowed here: executions, artifacts, webhook_payloads, webhook_ids, workspaces, interval)',
    ]);
  });
});
