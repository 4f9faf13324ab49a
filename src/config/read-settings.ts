/**
 * The operator's settings from the environment (or `.env`, loaded by the
 * caller), checked once at start-up: a wrong value stops Sluice with a
 * message that names the variable and says how to fix it.
 */
import { resolve } from 'node:path';
import { PrivateKeyError, readPrivateKey } from './read-private-key.ts';
import { SluiceError } from '../sluice-error.ts';
import { DURATION_HINT, parseDuration } from './parse-duration.ts';

/** How long a SIGTERM lets running commands go on (systemd's TimeoutStopSec must leave room for it and a rollback). */
export const DEFAULT_STOP_GRACE_MS = 30_000;

/** Where GitHub posts webhooks unless WEBHOOK_PATH says otherwise (Probot's default). */
export const DEFAULT_WEBHOOK_PATH = '/api/github/webhooks';

/** Probot's log levels (LOG_LEVEL), most to least talkative, and `silent`; its default is `warn`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Settings {
  port: number;
  /** The address to listen on (`HOST`, as in Probot); default: every interface. */
  host?: string;
  dataDir: string;
  databaseUrl?: string;
  /** Path of the operator's server config (`SLUICE_CONFIG`). */
  serverConfig?: string;
  /** Where people reach Sluice's pages (`SLUICE_URL`): links in check runs and Slack. */
  publicUrl: string;
  /** The GitHub App; absent until it is created (then Sluice serves the setup flow). */
  github?: GithubSettings;
  /**
   * Where GitHub is (`GHE_HOST`, `GHE_PROTOCOL`, as in Probot); absent: github.com. The setup flow creates the app
   * there.
   */
  githubServer?: GithubServer;
  /**
   * `GH_ORG` (as in Probot): the organization the setup flow creates the app in, instead of the person's own account.
   */
  githubOrg?: string;
  /** The Slack app; absent: no Slack (approvals are decided with `sluice approve`). */
  slack?: SlackSettings;
  /** The bearer token Prometheus sends for `/metrics` (`SLUICE_METRICS_TOKEN`); absent: metrics are off. */
  metricsToken?: string;
  /** How much Probot logs (LOG_LEVEL, as in Probot); default `warn`. */
  logLevel?: LogLevel;
  /**
   * `LOG_FORMAT` (as in Probot): `json` writes one JSON object a line; the default is readable lines for a terminal.
   */
  logFormat?: 'json' | 'pretty';
  /** `LOG_LEVEL_IN_STRING=true` (as in Probot): JSON lines say `"level":"info"` instead of `30`. */
  logLevelInString?: boolean;
  /** `SLUICE_STOP_GRACE`: how long a SIGTERM lets running commands go on before it interrupts them (default 30 s). */
  stopGraceMs?: number;
  /** Where GitHub posts webhooks (WEBHOOK_PATH, as in Probot); default /api/github/webhooks. */
  webhookPath?: string;
}

/** SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN (Socket Mode), SLACK_API_URL. */
export interface SlackSettings {
  botToken: string;
  /** HTTP mode: requests to /slack/events are verified with it. */
  signingSecret?: string;
  /** Socket Mode: Sluice connects out to Slack instead of taking requests. */
  appToken?: string;
  /** Slack's Web API root, e.g. https://slack.com/api/. */
  apiUrl?: string;
}

/** GitHub's web address and REST API root: github.com's, or a GitHub Enterprise Server's. */
export interface GithubServer {
  webUrl: string;
  apiUrl: string;
}

export const GITHUB_COM: GithubServer = { webUrl: 'https://github.com', apiUrl: 'https://api.github.com' };

/** Probot's own variable names: APP_ID, PRIVATE_KEY(_PATH), WEBHOOK_SECRET, GHE_HOST, GHE_PROTOCOL. */
export interface GithubSettings {
  appId: number;
  privateKey: string;
  webhookSecret: string;

  /** The REST API root: https://api.github.com, or `<GHE_PROTOCOL>://<GHE_HOST>/api/v3`. */
  baseUrl: string;
}

export class SettingsError extends SluiceError<'INVALID_SETTINGS'> {
  constructor(message: string) {
    super('INVALID_SETTINGS', message);
  }
}

export function readSettings(env: NodeJS.ProcessEnv): Settings {
  // Digits only: Number() would read " " as 0 (a random port no one can find), "0x50" as 80 and "1e3" as 1000.
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : /^\d{1,5}$/.test(env.PORT) ? Number(env.PORT) : NaN;
  if (!Number.isInteger(port) || port > 65535 || (port === 0 && !env.SLUICE_URL)) {
    throw new SettingsError(
      port === 0
        ? "PORT is 0, a port the system picks at random, so Sluice's own links (http://localhost:0/…) would lead nowhere: set PORT to a port from 1 to 65535, or SLUICE_URL to the address a proxy in front of Sluice serves it at."
        : `PORT must be a port number from 1 to 65535, not "${env.PORT}".`,
    );
  }
  const databaseUrl = readDatabaseUrl(env);
  const publicUrl = (env.SLUICE_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(publicUrl)) {
    throw new SettingsError(
      `SLUICE_URL must be the address people use to reach Sluice, such as https://sluice.example.com, not "${env.SLUICE_URL}".`,
    );
  }
  const logLevel = env.LOG_LEVEL || undefined;
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new SettingsError(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (as in Probot; the default is warn), not "${logLevel}".`,
    );
  }
  const logFormat = env.LOG_FORMAT || undefined;
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'pretty') {
    throw new SettingsError(
      `LOG_FORMAT must be json (one JSON object a line) or pretty (the default, for a terminal), as in Probot, not "${logFormat}".`,
    );
  }
  // 0 needs no unit (no grace: what runs is interrupted at once); any other number does.
  const stopGraceMs = env.SLUICE_STOP_GRACE
    ? env.SLUICE_STOP_GRACE.trim() === '0'
      ? 0
      : parseDuration(env.SLUICE_STOP_GRACE)
    : undefined;
  if (env.SLUICE_STOP_GRACE && stopGraceMs === undefined) {
    throw new SettingsError(
      `SLUICE_STOP_GRACE must be ${DURATION_HINT} (how long a stop lets running commands finish; the default is 30s), not "${env.SLUICE_STOP_GRACE}".`,
    );
  }
  const webhookPath = env.WEBHOOK_PATH || undefined;
  if (webhookPath !== undefined && !/^\/[^\s?#]*$/.test(webhookPath)) {
    throw new SettingsError(
      `WEBHOOK_PATH must be the path GitHub posts webhooks to, starting with "/" (as in Probot; the default is ${DEFAULT_WEBHOOK_PATH}), not "${webhookPath}".`,
    );
  }
  const taken = webhookPath === undefined ? undefined : takenPath(webhookPath);
  if (taken) {
    throw new SettingsError(
      `WEBHOOK_PATH ${webhookPath} is where Sluice serves ${taken}, so GitHub's webhooks would not reach it: choose another path, such as the default ${DEFAULT_WEBHOOK_PATH}.`,
    );
  }
  return {
    port,
    ...(env.HOST ? { host: env.HOST } : {}),
    dataDir: resolve(env.SLUICE_DATA_DIR || 'data'),
    databaseUrl,
    serverConfig: readServerConfigPath(env),
    publicUrl,
    github: readGithubSettings(env),
    githubServer: readGithubServer(env),
    ...(env.GH_ORG && { githubOrg: env.GH_ORG }),
    slack: readSlackSettings(env),
    ...(env.SLUICE_METRICS_TOKEN ? { metricsToken: readMetricsToken(env.SLUICE_METRICS_TOKEN) } : {}),
    ...(logLevel && { logLevel: logLevel as LogLevel }),
    ...(webhookPath && { webhookPath }),
    ...(stopGraceMs !== undefined && { stopGraceMs }),
    ...(logFormat && { logFormat }),
    ...(env.LOG_LEVEL_IN_STRING === 'true' && { logLevelInString: true }),
  };
}

/**
 * `DATABASE_URL`, checked (the `sluice` command reads it too, with the same messages); absent: SQLite in the data
 * directory.
 */
export function readDatabaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new SettingsError(
      'DATABASE_URL must be a PostgreSQL URL such as postgres://sluice:secret@db.internal:5432/sluice.',
    );
  }
  if (databaseUrl && !readsAsUrl(databaseUrl)) {
    throw new SettingsError(
      'DATABASE_URL cannot be read as a URL: a user name or password with any of # ? / : [ ] % in it must be percent-encoded (# as %23, ? as %3F, / as %2F, : as %3A, % as %25), as in postgres://sluice:p%23ss@db.internal:5432/sluice.',
    );
  }
  return databaseUrl;
}

/** `SLUICE_CONFIG`: the path of the operator's server config, if one is given. */
export function readServerConfigPath(env: NodeJS.ProcessEnv): string | undefined {
  return env.SLUICE_CONFIG || undefined;
}

/**
 * How to log before the settings are read, or when they are wrong: the
 * format asked for, and the credentials given as they stand (unchecked), so
 * a message about a wrong setting is in the log's format and shows none of them.
 */
export function readStartUpLogSettings(env: NodeJS.ProcessEnv): {
  logFormat: 'json' | 'pretty';
  logLevelInString: boolean;
  secrets: string[];
  keys: string[];
} {
  const given = (values: (string | undefined)[]) => values.filter((value): value is string => Boolean(value));
  return {
    logFormat: env.LOG_FORMAT === 'json' ? 'json' : 'pretty',
    logLevelInString: env.LOG_LEVEL_IN_STRING === 'true',
    secrets: given([
      env.WEBHOOK_SECRET,
      env.SLACK_BOT_TOKEN,
      env.SLACK_SIGNING_SECRET,
      env.SLACK_APP_TOKEN,
      env.SLUICE_METRICS_TOKEN,
    ]),
    keys: given([env.PRIVATE_KEY]),
  };
}

/** What Sluice itself serves at `path` (answered before webhooks, or shadowed by them), if anything. */
function takenPath(path: string): string | undefined {
  const trimmed = path.replace(/\/+$/, '').toLowerCase();
  if (trimmed === '/healthz') return 'its health check';
  if (trimmed === '/metrics') return 'its metrics';
  if (trimmed === '/slack' || trimmed.startsWith('/slack/')) return "Slack's requests";
  if (trimmed === '/executions' || trimmed.startsWith('/executions/')) return 'the execution pages';
  return undefined;
}

function readMetricsToken(token: string): string {
  if (token.length < 16 || /\s/.test(token)) {
    throw new SettingsError(
      'SLUICE_METRICS_TOKEN must be at least 16 characters without spaces (for example the output of `openssl rand -hex 32`): Prometheus sends it to read /metrics.',
    );
  }
  return token;
}

function readSlackSettings(env: NodeJS.ProcessEnv): SlackSettings | undefined {
  const botToken = env.SLACK_BOT_TOKEN;
  if (!botToken) {
    const stray = ['SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'].filter((name) => env[name]);
    if (stray.length > 0)
      throw new SettingsError(
        `${stray.join(' and ')} ${stray.length === 1 ? 'is' : 'are'} set but SLACK_BOT_TOKEN is not: set the bot token (xoxb-…, from the Slack app's OAuth page) too.`,
      );
    return undefined;
  }
  if (!botToken.startsWith('xoxb-'))
    throw new SettingsError(
      'SLACK_BOT_TOKEN must be the bot token of the Slack app, which starts with "xoxb-" (its "OAuth & Permissions" page shows it).',
    );
  const appToken = env.SLACK_APP_TOKEN || undefined;
  if (appToken && !appToken.startsWith('xapp-'))
    throw new SettingsError(
      'SLACK_APP_TOKEN must be an app-level token with the connections:write scope, which starts with "xapp-" (the app\'s "Basic Information" page makes one).',
    );
  const signingSecret = env.SLACK_SIGNING_SECRET || undefined;
  if (!appToken && !signingSecret)
    throw new SettingsError(
      'Slack needs SLACK_SIGNING_SECRET (the app\'s "Basic Information" page shows it) to verify requests, or SLACK_APP_TOKEN for Socket Mode.',
    );
  const apiUrl = env.SLACK_API_URL || undefined;
  if (apiUrl && !/^https?:\/\//.test(apiUrl))
    throw new SettingsError(`SLACK_API_URL must be a URL such as https://slack.com/api/, not "${apiUrl}".`);
  return {
    botToken,
    ...(signingSecret && { signingSecret }),
    ...(appToken && { appToken }),
    ...(apiUrl && { apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` }),
  };
}

function readGithubSettings(env: NodeJS.ProcessEnv): GithubSettings | undefined {
  const given = ['APP_ID', 'PRIVATE_KEY', 'PRIVATE_KEY_PATH', 'WEBHOOK_SECRET'].filter((name) => env[name]);
  if (given.length === 0) return undefined;
  const missing = [
    !env.APP_ID && 'APP_ID',
    !env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH && 'PRIVATE_KEY or PRIVATE_KEY_PATH',
    !env.WEBHOOK_SECRET && 'WEBHOOK_SECRET',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new SettingsError(
      `The GitHub App is half configured: ${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} set but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not. ` +
        'Set all of them (the app settings page on GitHub has each), or none to create the app through the setup page.',
    );
  }
  const appId = /^\d+$/.test(env.APP_ID ?? '') ? Number(env.APP_ID) : NaN;
  if (!Number.isInteger(appId) || appId <= 0)
    throw new SettingsError(
      `APP_ID must be the GitHub App's numeric id (its settings page shows "App ID"), not "${env.APP_ID}".`,
    );
  let privateKey: string;
  try {
    privateKey = readPrivateKey(env);
  } catch (error) {
    if (error instanceof PrivateKeyError) throw new SettingsError(error.message);
    throw error;
  }
  return { appId, privateKey, webhookSecret: env.WEBHOOK_SECRET ?? '', baseUrl: readGithubServer(env).apiUrl };
}

/** GHE_HOST names a GitHub Enterprise Server (its API under /api/v3), reached over GHE_PROTOCOL (default https). */
function readGithubServer(env: NodeJS.ProcessEnv): GithubServer {
  const host = env.GHE_HOST;
  if (!host) return GITHUB_COM;
  const webUrl = `${env.GHE_PROTOCOL || 'https'}://${host}`;
  return { webUrl, apiUrl: `${webUrl}/api/v3` };
}

/** Whether a URL parses whole: an unencoded `#`, `?` or `/` in a password cuts it short or breaks it. */
function readsAsUrl(url: string): boolean {
  try {
    return new URL(url).hash === '';
  } catch {
    return false;
  }
}
