/**
 * Creating the GitHub App, the way Probot apps do (its "setup flow" with an
 * app manifest): while no app is configured, `/` offers a button that sends
 * `app.yml` to GitHub; GitHub sends the browser back to `/probot/setup` with
 * a code, which Sluice exchanges for the app's id, key and webhook secret and
 * writes to `.env`. Restart Sluice and it runs as that app.
 *
 * Whoever finishes this flow decides which app Sluice runs as, so it is not
 * open to whoever reaches an unconfigured Sluice first: the page needs a
 * token that Sluice prints to its own log, and the way back needs a `state`
 * (GitHub's manifest flow passes it through) that this page issued, once,
 * within the hour GitHub gives the flow.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Octokit } from '@octokit/rest';
import { parse } from 'yaml';
import type { RouteHandler } from '../web/create-http-server.ts';
import { escapeHtml } from '../web/escape-html.ts';
import { updateEnvFile } from './update-env-file.ts';

export interface SetupFlowOptions {
  /** Where GitHub reaches Sluice (SLUICE_URL): the webhook URL and the way back. */
  publicUrl: string;
  /** Where GitHub is to post webhooks: SLUICE_URL and WEBHOOK_PATH. */
  webhookUrl: string;
  /** `app.yml`: the manifest's name, permissions and events. */
  manifestFile: string;
  envFile: string;
  /** The web host (github.com or GHE_HOST) and the API root. */
  webUrl: string;
  apiUrl: string;
  org?: string;
  log(line: string): void;
}

/** GitHub wants the three steps of the manifest flow done within an hour. */
const STATE_LIFETIME_MS = 60 * 60 * 1000;

export function serveSetupFlow(options: SetupFlowOptions): RouteHandler {
  const token = randomBytes(24).toString('base64url');
  const states = new Map<string, number>();
  options.log(
    `No GitHub App is configured. To create one, open ${options.publicUrl}/probot?token=${token} (only this address works, so only someone who can read this log can set Sluice up), or set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET.`,
  );
  const issueState = () => {
    const now = Date.now();
    for (const [state, expires] of states) if (expires <= now) states.delete(state);
    const state = randomBytes(24).toString('base64url');
    states.set(state, now + STATE_LIFETIME_MS);
    return state;
  };
  const takeState = (state: string | null) => {
    const expires = state === null ? undefined : states.get(state);
    if (state === null || expires === undefined) return false;
    states.delete(state);
    return expires > Date.now();
  };
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sluice.invalid');
    if (req.method !== 'GET') return false;
    if (url.pathname === '/') {
      res.writeHead(302, { location: '/probot' }).end();
      return true;
    }
    if (url.pathname === '/probot') {
      if (!sameText(url.searchParams.get('token') ?? '', token)) {
        res
          .writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
          .end(
            'Setting up Sluice needs the address Sluice printed to its log when it started (/probot?token=…). Open that address.\n',
          );
        return true;
      }
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(setupPage(options, issueState()));
      return true;
    }
    if (url.pathname === '/probot/setup') {
      const code = url.searchParams.get('code');
      if (!code) {
        res
          .writeHead(400, { 'content-type': 'text/plain' })
          .end('GitHub sends a code to this page after the app is created; there was none. Start again at /probot.\n');
        return true;
      }
      if (!takeState(url.searchParams.get('state'))) {
        res
          .writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
          .end(
            "GitHub sent back no state, or one this Sluice did not issue (or issued more than an hour ago, or already used); nothing was changed. Start again at the address in Sluice's log.\n",
          );
        return true;
      }
      const github = new Octokit({ baseUrl: options.apiUrl });
      const { data } = await github.request('POST /app-manifests/{code}/conversions', { code });
      updateEnvFile(options.envFile, {
        APP_ID: String(data.id),
        PRIVATE_KEY: data.pem,
        WEBHOOK_SECRET: data.webhook_secret ?? '',
      });
      options.log(
        `GitHub App "${data.name}" created (id ${data.id}); its settings are in ${options.envFile}. Restart Sluice to run as it.`,
      );
      res.writeHead(302, { location: `${data.html_url}/installations/new` }).end();
      return true;
    }
    return false;
  };
}

export function appManifest(
  options: Pick<SetupFlowOptions, 'publicUrl' | 'webhookUrl' | 'manifestFile'>,
): Record<string, unknown> {
  const manifest = (parse(readFileSync(options.manifestFile, 'utf8')) ?? {}) as Record<string, unknown>;
  return {
    ...manifest,
    hook_attributes: { url: options.webhookUrl, active: true },
    redirect_url: `${options.publicUrl}/probot/setup`,
  };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function setupPage(options: SetupFlowOptions, state: string): string {
  const target = `${options.webUrl}${options.org ? `/organizations/${encodeURIComponent(options.org)}` : ''}/settings/apps/new?state=${encodeURIComponent(state)}`;
  const manifest = JSON.stringify(appManifest(options));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Set up Sluice</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:3rem auto;max-width:40rem}button{font-size:1.1em;padding:.5em 1em}</style></head><body>
<h1>Set up Sluice</h1>
<p>Sluice runs as a GitHub App. This button creates one on ${escapeHtml(options.webUrl)} with the permissions and events of <code>app.yml</code>;
GitHub then sends you back here, and Sluice writes the app's id, private key and webhook secret to <code>.env</code>.</p>
<p>GitHub will send webhooks to <code>${escapeHtml(options.webhookUrl)}</code>. If GitHub cannot reach that address, set
<code>SLUICE_URL</code> to one it can, restart Sluice and reload this page.</p>
<form action="${escapeHtml(target)}" method="post"><input type="hidden" name="manifest" value="${escapeHtml(manifest)}"><button type="submit">Create the GitHub App</button></form>
</body></html>`;
}
