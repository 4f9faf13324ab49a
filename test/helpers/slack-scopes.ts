/**
 * The OAuth scopes of Sluice's Slack app, as the Slack stand-in grants
 * them: what slack-manifest.yml asks for, so a method whose scope the
 * manifest does not request fails here as it would in a workspace that
 * installed the app from it (`missing_scope`, with `needed` and `provided`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The bot scope each Web API method the stand-in answers needs, after each method's reference page. */
export const METHOD_SCOPES: Readonly<Record<string, string | undefined>> = {
  'auth.test': undefined,
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'usergroups.users.list': 'usergroups:read',
  'users.lookupByEmail': 'users:read.email',
};

/** The bot scopes slack-manifest.yml requests. */
export function manifestScopes(): string[] {
  const manifest = parse(readFileSync(fileURLToPath(new URL('../../slack-manifest.yml', import.meta.url)), 'utf8')) as {
    oauth_config?: { scopes?: { bot?: string[] } };
  };
  return [...(manifest.oauth_config?.scopes?.bot ?? [])];
}

/** Slack's answer when the token lacks the scope `method` needs, or undefined when it has it. */
export function missingScope(method: string, granted: readonly string[]): Record<string, unknown> | undefined {
  const needed = METHOD_SCOPES[method];
  if (needed === undefined || granted.includes(needed)) return undefined;
  return { ok: false, error: 'missing_scope', needed, provided: granted.join(',') };
}
