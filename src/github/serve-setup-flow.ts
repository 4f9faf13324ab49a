/**
 * Creating the GitHub App, the way Probot apps do (its "setup flow" with an
 * app manifest): while no app is configured, `/` offers a button that sends
 * `app.yml` to GitHub; GitHub sends the browser back to `/probot/setup` with
 * a code, which Sluice exchanges for the app's id, key and webhook secret and
 * writes to `.env`. Restart Sluice and it runs as that app.
 */
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

export function serveSetupFlow(options: SetupFlowOptions): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sluice.invalid');
    if (req.method !== 'GET') return false;
    if (url.pathname === '/') {
      res.writeHead(302, { location: '/probot' }).end();
      return true;
    }
    if (url.pathname === '/probot') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(setupPage(options));
      return true;
    }
    if (url.pathname === '/probot/setup') {
      const code = url.searchParams.get('code');
      if (!code) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('GitHub sends a code to this page after the app is created; there was none. Start again at /probot.\n');
        return true;
      }
      const github = new Octokit({ baseUrl: options.apiUrl });
      const { data } = await github.request('POST /app-manifests/{code}/conversions', { code });
      updateEnvFile(options.envFile, { APP_ID: String(data.id), PRIVATE_KEY: data.pem, WEBHOOK_SECRET: data.webhook_secret ?? '' });
      options.log(`GitHub App "${data.name}" created (id ${data.id}); its settings are in ${options.envFile}. Restart Sluice to run as it.`);
      res.writeHead(302, { location: `${data.html_url}/installations/new` }).end();
      return true;
    }
    return false;
  };
}

export function appManifest(options: Pick<SetupFlowOptions, 'publicUrl' | 'webhookUrl' | 'manifestFile'>): Record<string, unknown> {
  const manifest = (parse(readFileSync(options.manifestFile, 'utf8')) ?? {}) as Record<string, unknown>;
  return {
    ...manifest,
    hook_attributes: { url: options.webhookUrl, active: true },
    redirect_url: `${options.publicUrl}/probot/setup`,
  };
}

function setupPage(options: SetupFlowOptions): string {
  const target = `${options.webUrl}${options.org ? `/organizations/${encodeURIComponent(options.org)}` : ''}/settings/apps/new`;
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
