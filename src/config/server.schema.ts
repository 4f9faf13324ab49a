/**
 * The schema of the operator's server config: how Sluice reaches hosts,
 * which environments exist and who may approve deploys to them, and where
 * secret values come from (never the values themselves). Strict, like the
 * pipeline file. Cross-field rules are in check-server.ts.
 */
import { z } from 'zod';
import { hostTextProblem } from './host-entry.ts';
import { DURATION_HINT, parseDuration } from './parse-duration.ts';
import { duration } from './pipeline.schema.ts';

const port = z.int().min(1).max(65535, { error: 'use a port number from 1 to 65535' });

const hostText = z.string().check((ctx) => {
  const problem = hostTextProblem(ctx.value);
  if (problem) ctx.issues.push({ code: 'custom', input: ctx.value, message: problem });
});

const hostObject = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, {
      error: 'a host name uses letters, digits, ".", ":", "-" and "_" (it becomes {host} in drain commands)',
    })
    .describe('The name Sluice shows, and `{host}` in drain and undrain commands.'),
  address: z.string().min(1).describe('The address to connect to.'),
  port: port.optional().describe('The SSH port (default: ssh.port, or 22).'),
  user: z.string().min(1).optional().describe('The SSH user (default: ssh.user).'),
});

export const hostEntrySchema = z
  .union([hostText, hostObject], {
    error: 'a host is `local`, an address such as deploy@10.0.1.11:2222, or { name, address, port, user }',
  })
  .describe('A host: `local`, `[user@]address[:port]`, or { name, address, port, user }.');

/** A limit on how many things happen at once: a whole number of at least 1. */
const atOnce = (key: string, example: number) =>
  z.int().min(1, { error: `${key} is at least 1 (one at a time), such as ${example}` });

const AMOUNT_HINT = 'use a number of hosts or a percentage such as 25%';

const amount = (what: string) =>
  z
    .union([z.int().min(0), z.string().regex(/^(100|[1-9]?[0-9])%$/, { error: AMOUNT_HINT })], { error: AMOUNT_HINT })
    .describe(`${what[0]!.toUpperCase()}${what.slice(1)}: a number of hosts or a percentage such as 25%.`);

/** A retention duration: a short `what` for its error, the whole story for the reference. */
const keep = (what: string, description: string) =>
  duration(what)
    .optional()
    .describe(`${description} ${DURATION_HINT[0]!.toUpperCase()}${DURATION_HINT.slice(1)}.`);

const slackId = (kinds: string, what: string) =>
  z.string().regex(new RegExp(`^[${kinds}][A-Z0-9]{2,}$`), {
    error: `use the Slack id of ${what} (starting with ${kinds.split('').join(' or ')}), as its details in Slack show it`,
  });

const approval = z
  .strictObject({
    slack_channel: slackId('CG', 'the channel').describe('The Slack channel id where the approval card is posted.'),
    approvers: z
      .array(slackId('UWS', 'a user or user group'))
      .min(1, { error: 'approvers needs at least one Slack user (U…) or user group (S…)' })
      .describe('Who may decide: Slack user ids (U…, W…) and user group ids (S…).'),
    timeout: duration('how long an approval waits before it expires').optional(),
    skip_for_rollbacks: z
      .boolean()
      .optional()
      .describe(
        'Whether a rollback (`/sluice rollback`, *Roll back* on GitHub) deploys without asking (default: false: it asks these approvers, like any deploy).',
      ),
    allow_self_approval: z
      .boolean()
      .optional()
      .describe(
        'Whether those who brought a change (its pusher, the authors and committers of its commits since what the environment runs, whoever retried it) may approve it (default: false).',
      ),
  })
  .describe('Approval rules for deploys to this environment.');

const repoList = z.array(z.string().min(1));

const hostGroup = z
  .union(
    [
      z.array(hostEntrySchema).min(1).describe('The hosts of the group; any repository may use it.'),
      z
        .strictObject({
          hosts: z.array(hostEntrySchema).min(1).describe('The hosts of the group.'),
          repos: repoList
            .optional()
            .describe(
              'Repositories whose build and command actions may run on the group: owner/name, owner/* or * (default: any).',
            ),
        })
        .describe('The hosts of the group and the repositories that may use it.'),
    ],
    { error: 'a host group is a list of hosts, or { hosts: [...], repos: [...] }' },
  )
  .describe('A host group: a list of hosts, or { hosts, repos } to say which repositories may use it.');

const environment = z
  .strictObject({
    hosts: z
      .union([z.string().min(1), z.array(hostEntrySchema).min(1)], {
        error: 'use a list of hosts or the name of a host group',
      })
      .describe('The hosts of the environment: a list, or the name of a host group.'),
    path: z
      .string()
      .regex(/^\/[^\0]*$/, { error: 'use an absolute directory on the hosts, such as /srv/app' })
      .refine((p) => p !== '/', { error: 'cannot be / itself; use a directory such as /srv/app' })
      .describe(
        'The deploy root on each host; releases go under <path>/releases, and <path>/current points at the live one.',
      ),
    rolling: z
      .strictObject({ batch: amount('batch').optional(), min_healthy: amount('min_healthy').optional() })
      .optional()
      .describe('Rolling deploy: hosts per batch (default 1) and hosts that must stay in service (default 0).'),
    drain: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Shell command run on the Sluice machine to take `{host}` out of the load balancer before it is touched.',
      ),
    undrain: z
      .string()
      .min(1)
      .optional()
      .describe('Shell command run on the Sluice machine to put `{host}` back once it is healthy.'),
    load_balancer: z
      .strictObject({
        haproxy: z
          .strictObject({
            socket: z.string().min(1).describe('Path of HAProxy’s runtime API socket (`stats socket … level admin`).'),
            backend: z.string().min(1).describe('The backend whose servers are named after this environment’s hosts.'),
            timeout: duration(
              'how long a drain may wait for open requests, and an undrain for the health check to pass',
            ).optional(),
          })
          .describe('Drain and undrain through HAProxy’s runtime API, waiting for each to take effect.'),
      })
      .optional()
      .describe('A load balancer Sluice drains hosts from itself; instead of drain and undrain commands.'),
    keep_releases: z.int().min(1).optional().describe('How many releases to keep on each host (default 5).'),
    url: z.url().optional().describe('The environment URL shown on GitHub Deployments.'),
    repos: repoList
      .optional()
      .describe('Repositories allowed to deploy here: owner/name, owner/* or * (default: any).'),
    allow_commands_from: repoList
      .optional()
      .describe(
        'Repositories whose build and command actions may run on this environment’s hosts (owner/name, owner/* or *; default: none). A host of an environment takes only deploys, which its repos and approval rules gate; a build or command action would run a repository’s own commands there with neither, so the operator names who may.',
      ),
    approval: approval.optional(),
  })
  .describe('An environment Sluice can deploy to.');

const secretSource = z
  .strictObject({
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional()
      .describe('The environment variable of the Sluice process holding the value.'),
    file: z.string().min(1).optional().describe('A file holding the value (a trailing newline is dropped).'),
    repos: z
      .array(z.string().min(1))
      .min(1, { error: 'repos names who may read the secret: owner/name, owner/* or *' })
      .describe(
        'Repositories allowed to read it: owner/name, owner/* or *. Required, so granting a secret is always a decision.',
      ),
  })
  .check((ctx) => {
    const from = [ctx.value.env, ctx.value.file].filter((v) => v !== undefined).length;
    if (from !== 1)
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: 'a secret comes from exactly one of `env: VARIABLE` or `file: /path`',
      });
  })
  .describe('Where a secret’s value comes from, and which repositories may read it.');

/** The chat-ops commands of `/sluice` (PRODUCT K5). */
export const SLACK_COMMANDS = [
  'status',
  'run',
  'retry',
  'cancel',
  'rollback',
  'lock',
  'unlock',
  'disable',
  'enable',
] as const;
export type SlackCommand = (typeof SLACK_COMMANDS)[number];

const commandUsers = z
  .array(
    z.string().regex(/^(\*|[UWS][A-Z0-9]{2,})$/, {
      error:
        'use "*" for everyone, or the Slack id of a user or user group (starting with U or W or S), as its details in Slack show it',
    }),
  )
  .describe('Slack user ids (U…, W…), user group ids (S…), or "*" for everyone.');

const slack = z
  .strictObject({
    people: z
      .record(z.string().min(1), slackId('UW', 'a user'))
      .optional()
      .describe(
        'Pushers and commit authors and committers (GitHub logins or e-mail addresses) mapped to Slack users, where Slack’s e-mail lookup would not match them. Used to keep them from approving their own change.',
      ),
    commands: z
      .strictObject(
        Object.fromEntries(SLACK_COMMANDS.map((name) => [name, commandUsers.optional()])) as Record<
          SlackCommand,
          z.ZodOptional<typeof commandUsers>
        >,
      )
      .optional()
      .describe(
        'Who may run each `/sluice` command. `status` is open to everyone unless listed; the others to nobody unless listed.',
      ),
  })
  .describe('Slack: who is who, and who may run which command.');

export const serverSchema = z
  .strictObject({
    ssh: z
      .strictObject({
        user: z.string().min(1).describe('The SSH user on every host (a host may override it).'),
        key: z.string().min(1).describe('Path of the private key Sluice authenticates with.'),
        known_hosts: z
          .string()
          .min(1)
          .describe('Path of the known_hosts file; a host whose key is not in it is refused.'),
        port: port.optional().describe('The SSH port (default 22).'),
        connect_timeout: duration(
          'the time limit for connecting to a host',
          'give connecting a time limit above 0, such as 30s',
        ).optional(),
        command_timeout: duration(
          'the longest any command may run on an SSH host: builds, command actions, deploy hooks and health checks are stopped at it whatever a pipeline asks, and `sluice validate` refuses a pipeline `timeout` above it for an action on SSH hosts (default: no limit beyond the pipeline’s)',
          'give SSH commands a time limit above 0, such as 2h (leave `command_timeout` out for no limit beyond the pipeline’s)',
        ).optional(),
        rollback_timeout: duration('the time limit for a rollback')
          .refine((text) => (parseDuration(text) ?? 1000) >= 1000, {
            error: 'give the rollback at least 1s to put hosts back, such as 15m',
          })
          .optional()
          .describe(
            `How long putting a stopped deploy’s touched hosts back may take (their hooks, health checks and undrain together), whatever stopped the rollout; hosts not back by then are reported as not rolled back. Default 15m, at least 1s; it holds for every environment, \`local\` hosts too. ${DURATION_HINT[0]!.toUpperCase()}${DURATION_HINT.slice(1)}.`,
          ),
        max_sessions: atOnce('max_sessions', 8)
          .optional()
          .describe(
            'How many hosts a deploy is connected to at once (default 8), whatever the number of hosts and the batch size: the release is staged on that many hosts at a time, and a larger batch deploys that many of its hosts at a time. A host’s session (one SSH connection) is kept between its steps until another host needs its place. A host uploads the artifact only while it holds its place; an upload with the OpenSSH client is a second connection to that host while it lasts (counted by max_uploads), so the hosts see at most max_sessions plus max_uploads connections from a deploy at once, never more than twice max_sessions.',
          ),
        max_uploads: atOnce('max_uploads', 4)
          .optional()
          .describe(
            'How many uploads of an artifact a deploy runs at once (default 8; no more than max_sessions run anyway, as a host uploads only while it holds its place). An upload with the OpenSSH client has a connection of its own beside its host’s session; one over SFTP (no ssh client on the Sluice machine) uses the session’s. Each streams from the file, so memory does not grow with the number of hosts.',
          ),
      })
      .optional()
      .describe('How Sluice reaches hosts over SSH. Needed unless every host is `local`.'),
    hosts: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, { error: 'a host group name uses letters, digits, "-" and "_"' }),
        hostGroup,
      )
      .optional()
      .describe(
        'Host groups by name, used by build and command actions (`host: builder`). A group that holds hosts of an environment is open to a repository only where that environment’s allow_commands_from names it, and `local` only where `local.repos` does.',
      ),
    local: z
      .strictObject({
        repos: repoList
          .min(1, { error: 'repos names who may run on the Sluice machine: owner/name, owner/* or *' })
          .describe(
            'Repositories whose build and command actions may run on the Sluice machine (owner/name, owner/* or *).',
          ),
      })
      .optional()
      .describe(
        'Who may run on the Sluice machine itself (a host group holding `local`). It holds Sluice’s settings, its GitHub App key and its SSH key, so a repository granted it can read all of them: grant only repositories you trust like the operator. Without this section no repository may run there.',
      ),
    environments: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, { error: 'an environment name uses letters, digits, "-" and "_"' }),
        environment,
      )
      .optional()
      .describe('Environments by name: where deploys go, and who approves them.'),
    secrets: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'a secret name uses letters, digits and "_"' }),
        secretSource,
      )
      .optional()
      .describe('Secrets by name, with where their values come from and which repositories may read them.'),
    slack: slack.optional(),
    github: z
      .strictObject({
        rollback: z
          .array(
            z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?$/, {
              error: 'use a GitHub login, such as octocat',
            }),
          )
          .optional()
          .describe(
            'GitHub logins who may press *Roll back* on a check run, besides the Slack users of slack.commands.rollback that slack.people maps a login to. Nobody else may.',
          ),
        retry: z
          .array(
            z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?$/, {
              error: 'use a GitHub login, such as octocat',
            }),
          )
          .optional()
          .describe(
            'GitHub logins who may press *Re-run* (or *Re-run all checks*) on a deploy to an environment with approval rules, besides the Slack users of slack.commands.retry that slack.people maps a login to. Nobody else may; builds and other deploys re-run for anyone GitHub lets press it.',
          ),
      })
      .optional()
      .describe('Who may act from GitHub’s check runs.'),
    recovery: z
      .strictObject({
        lease: duration(
          'how long a running action or a deploy’s environment lock holds without renewal, after which other Sluice processes take its holder for dead',
        ).optional(),
        retry_interrupted_builds: z
          .boolean()
          .optional()
          .describe(
            'Whether a build or command interrupted because its Sluice process died runs again at once (default false). Deploys never do: a person retries them.',
          ),
      })
      .optional()
      .describe(
        'What happens when a Sluice process dies while it runs an action (several processes on one PostgreSQL).',
      ),
    retention: z
      .strictObject({
        executions: keep(
          'how long finished executions are kept',
          'How long a finished execution, with its history and logs, is kept after it ended (default 30d). An execution that holds one of the releases an environment keeps (keep_releases) stays whatever its age.',
        ),
        artifacts: keep(
          'how long artifacts and sources are kept',
          'How long the artifacts and downloaded source of a finished execution are kept after it ended, so its stages can still be retried (default 7d). After that only the artifacts of the releases each environment keeps (keep_releases) remain.',
        ),
        webhook_payloads: keep(
          'how long webhook payloads are kept',
          'How long the stored payload of a handled webhook delivery is kept (default 7d).',
        ),
        webhook_ids: keep(
          'how long webhook delivery ids are kept',
          'How long the id of a handled webhook delivery is kept, so a delivery GitHub sends again is recognised and not acted on twice (default 30d).',
        ),
        workspaces: keep(
          'how old an abandoned workspace may get',
          'How old a local workspace that no running command uses (one left by a crash) must be before it is removed (default 1d).',
        ),
        interval: keep(
          'how often Sluice prunes',
          'How often the service prunes what the other settings let go (default 1h); `sluice run` prunes after each run.',
        ),
      })
      .optional()
      .describe(
        'How long Sluice keeps what it stores, so the data directory and the database stay bounded. Whatever an unfinished execution uses, and the current and earlier releases of every environment up to its keep_releases (at least the current one and the one a rollback goes back to), are never pruned.',
      ),
  })
  .describe('The operator’s Sluice server config.');

export type ServerConfig = z.infer<typeof serverSchema>;
export type EnvironmentConfig = z.infer<typeof environment>;
export type HostGroupConfig = z.infer<typeof hostGroup>;
