/**
 * The schema of `.github/sluice.yml`, the repository's pipeline (PRODUCT
 * "Two config files"). Strict: an unknown key is an error, so a typo never
 * silently does nothing. Cross-field rules (names, `needs`, artifacts) are
 * checked afterwards by check-pipeline.ts; descriptions feed the JSON Schema
 * for editors and the field reference.
 */
import { z } from 'zod';
import { ACTION_KINDS, EXECUTION_MODES } from '../pipeline/definition.ts';
import { branchPatternProblem, MAX_BRANCH_PATTERNS, MAX_BRANCH_PATTERNS_LENGTH } from './match-branch.ts';
import { DURATION_HINT, parseDuration } from './parse-duration.ts';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;
const NAME_HINT = 'letters, digits, "-" and "_", starting with a letter or digit, at most 63 characters';

export const name = (what: string) =>
  z
    .string()
    .regex(NAME, { error: `${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what} name uses ${NAME_HINT}` })
    .describe(`The ${what}'s name (${NAME_HINT}).`);

/**
 * `zero`, for a time limit: the error for `0s`. Written for "no limit", it
 * would stop everything at once; refused, it says what to write instead.
 */
export const duration = (what: string, zero?: string) =>
  z
    .string()
    .refine((text) => parseDuration(text) !== undefined, { error: `write ${what} as ${DURATION_HINT}` })
    .refine((text) => zero === undefined || parseDuration(text) !== 0, { error: zero })
    .describe(`${what[0]!.toUpperCase()}${what.slice(1)}: ${DURATION_HINT}.`);

const EACH_COMMAND = 'give each command a time limit above 0, such as 30m (leave `timeout` out for the default)';

const commands = (what: string) =>
  z
    .array(z.string().min(1, { error: 'a command cannot be empty' }))
    .min(1, { error: `${what} needs at least one command` });

const envVars = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'an environment variable name uses letters, digits and "_"' }),
    z.string(),
  )
  .describe('Plain environment variables for the commands. Never put secrets here: use `secrets`.');

const secretNames = z
  .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'a secret name uses letters, digits and "_"' }))
  .describe(
    'Secrets the operator granted to this repository, by name; each reaches the commands as an environment variable of that name.',
  );

const inputs = z
  .array(z.string())
  .describe('Artifacts of earlier actions, unpacked into the workspace before the commands run.');

const hostGroup = z
  .string()
  .min(1)
  .describe('A host group of the server config, or `local` for the machine Sluice runs on.');

const artifact = z
  .strictObject({
    name: name('artifact'),
    paths: z
      .array(z.string().min(1))
      .min(1, { error: 'an artifact needs at least one path' })
      .describe('Files and directories of the workspace, relative to it, packed into the artifact.'),
  })
  .describe('The artifact this build produces: a name unique in the pipeline and the paths it holds.');

const build = z
  .strictObject({
    host: hostGroup,
    run: commands('a build').describe(
      'Commands run one after another with bash in a fresh workspace holding the commit’s source.',
    ),
    artifact: artifact.optional(),
    inputs: inputs.optional(),
    timeout: duration('the time limit for each command', EACH_COMMAND).optional(),
    env: envVars.optional(),
    secrets: secretNames.optional(),
  })
  .describe('Build on a host of a host group: run commands, then pack the artifact.');

const command = z
  .strictObject({
    host: hostGroup,
    run: commands('a command action').describe(
      'Commands run one after another with bash in a fresh workspace holding the commit’s source.',
    ),
    inputs: inputs.optional(),
    timeout: duration('the time limit for each command', EACH_COMMAND).optional(),
    env: envVars.optional(),
    secrets: secretNames.optional(),
  })
  .describe('Run commands on a host (tests, migrations, notifications) without producing an artifact.');

const deploy = z
  .strictObject({
    environment: z.string().min(1).describe('An environment of the server config.'),
    artifact: z.string().min(1).describe('The artifact to deploy, produced by an earlier build.'),
  })
  .describe('Roll an artifact out to an environment of the server config, as releases.');

const approval = z
  .strictObject({
    environment: z
      .string()
      .min(1)
      .describe('The environment whose approval rules (channel, approvers, timeout) apply.'),
  })
  .describe('Wait for a person to approve or reject, under the approval rules the operator set for the environment.');

export const actionSchema = z
  .strictObject({
    name: name('action'),
    needs: z
      .array(z.string())
      .optional()
      .describe('Actions of the same stage that must succeed first. Default: none, so actions run in parallel.'),
    build: build.optional(),
    deploy: deploy.optional(),
    approval: approval.optional(),
    command: command.optional(),
  })
  .check((ctx) => {
    const kinds = ACTION_KINDS.filter((kind) => ctx.value[kind] !== undefined);
    if (kinds.length !== 1) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message:
          kinds.length === 0
            ? `action "${ctx.value.name}" needs one of: ${ACTION_KINDS.join(', ')}`
            : `action "${ctx.value.name}" has ${kinds.join(' and ')}; an action does exactly one of them, so split it into ${kinds.length} actions`,
      });
    }
  })
  .describe('One step of a stage: exactly one of build, deploy, approval or command.');

export const stageSchema = z
  .strictObject({
    name: name('stage'),
    needs: z
      .array(z.string())
      .optional()
      .describe('Stages that must succeed before this one starts. Default: the stage listed before it.'),
    actions: z
      .array(actionSchema)
      .min(1, { error: 'a stage needs at least one action' })
      .describe('The stage’s actions; they run in parallel unless `needs` orders them.'),
  })
  .describe('A stage: a group of actions that holds one execution at a time.');

const hooks = z
  .strictObject({
    stop: commands('the stop hook')
      .optional()
      .describe('Stop the running release (run in the current release, before the switch).'),
    before_install: commands('the before_install hook')
      .optional()
      .describe('Run in the new release before the switch.'),
    after_install: commands('the after_install hook')
      .optional()
      .describe('Run in the new release before the switch, e.g. installing dependencies.'),
    start: commands('the start hook').optional().describe('Start the new release after `current` points at it.'),
    validate: commands('the validate hook')
      .optional()
      .describe('Check the started release; a failure rolls the host back.'),
  })
  .describe('Lifecycle hooks, run with bash on each host of a deploy in the release directory.');

const health = z
  .strictObject({
    http: z
      .url({ protocol: /^https?$/, error: 'use an http:// or https:// URL' })
      .optional()
      .describe('A URL on the host that must answer 2xx, fetched on the host itself.'),
    command: z.string().min(1).optional().describe('A command run on the host that must exit 0.'),
    timeout: duration(
      'how long a host may take to become healthy',
      'give the health check a time limit above 0, such as 60s',
    ).optional(),
    interval: duration('the time between two health checks').optional(),
  })
  .check((ctx) => {
    if (ctx.value.http === undefined && ctx.value.command === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: 'health needs `http` (a URL) or `command` (a command that exits 0 when healthy)',
      });
    }
  })
  .describe('How to tell a started host is healthy. Checked until it passes or the timeout runs out.');

export const pipelineSchema = z
  .strictObject({
    on: z
      .strictObject({
        push: z
          .strictObject({
            branches: z
              .array(
                z
                  .string()
                  .min(1)
                  .check((ctx) => {
                    const problem = branchPatternProblem(ctx.value);
                    if (problem) ctx.issues.push({ code: 'custom', input: ctx.value, message: problem });
                  }),
              )
              .min(1)
              .max(MAX_BRANCH_PATTERNS, {
                error: `at most ${MAX_BRANCH_PATTERNS} branch patterns; name branches by a scheme (release/**) instead of one by one`,
              })
              .check((ctx) => {
                const total = ctx.value.reduce((sum, pattern) => sum + pattern.length, 0);
                if (total > MAX_BRANCH_PATTERNS_LENGTH) {
                  ctx.issues.push({
                    code: 'custom',
                    input: ctx.value,
                    message: `the branch patterns are ${total} characters long together; they may have at most ${MAX_BRANCH_PATTERNS_LENGTH}, as each is tried on every push`,
                  });
                }
                if (ctx.value.every((pattern) => pattern.startsWith('!'))) {
                  ctx.issues.push({
                    code: 'custom',
                    input: ctx.value,
                    message:
                      'every pattern starts with !, so no branch is included; name at least one branch to run for',
                  });
                }
              })
              .describe(
                "Branches whose pushes start an execution, with GitHub Actions' filter patterns: `*` (not across `/`), `**`, `?` (the character before is optional), `+` (the character before, once or more), `[0-9a-z]`, `\\` before a literal special character; `!` first excludes what the patterns before it included. At most 100 patterns, 256 characters a pattern and 4096 in all.",
              ),
          })
          .optional()
          .describe('Pushes to these branches start an execution of the pushed commit.'),
      })
      .optional()
      .describe('What starts the pipeline. Without it, pushes to the default branch do.'),
    mode: z
      .enum(EXECUTION_MODES, { error: `use ${EXECUTION_MODES.join(' or ')}` })
      .optional()
      .describe(
        'superseded (default): a newer execution waiting for a stage replaces the older one. queued: executions wait in order.',
      ),
    app: z
      .strictObject({ hooks: hooks.optional(), health: health.optional() })
      .optional()
      .describe('How the app installs and runs on a host (appspec-like).'),
    stages: z
      .array(stageSchema)
      .min(1, { error: 'a pipeline needs at least one stage' })
      .describe('The stages, in order; an execution moves through them as `needs` allows.'),
  })
  .describe('A Sluice pipeline (.github/sluice.yml).');

export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type StageConfig = z.infer<typeof stageSchema>;
export type ActionConfig = z.infer<typeof actionSchema>;
