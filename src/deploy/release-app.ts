/**
 * Each release keeps the hooks and health check it was deployed with, as
 * `releases/<id>/.sluice/app.json` on the host, so a rollback starts the
 * release it goes back to with that release's own start hook: a broken
 * start hook in a new pipeline must not break the way back (PRODUCT S4).
 * On the host it survives anything that happens to Sluice's own store.
 * Pure: the text written and its reading back.
 */
import { z } from 'zod';
import type { AppSpec } from '../pipeline/definition.ts';

/** Where a release's app spec lives, relative to the release directory. */
export const RELEASE_APP_FILE = '.sluice/app.json';

const commands = z.array(z.string()).optional();
const releaseApp = z.object({
  format: z.literal(1),
  app: z.object({
    hooks: z.object({
      stop: commands,
      before_install: commands,
      after_install: commands,
      start: commands,
      validate: commands,
    }),
    health: z
      .object({
        http: z.string().optional(),
        command: z.string().optional(),
        timeoutMs: z.number().positive(),
        intervalMs: z.number().nonnegative(),
      })
      .optional(),
  }),
});

export function formatReleaseApp(app: AppSpec): string {
  return `${JSON.stringify({ format: 1, app })}\n`;
}

/**
 * The app spec a release was deployed with, or undefined when it has none (deployed before releases kept theirs) or it
 * cannot be read.
 */
export function parseReleaseApp(text: string): AppSpec | undefined {
  if (text.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = releaseApp.safeParse(json);
  if (!parsed.success) return undefined;
  const { hooks, health } = parsed.data.app;
  const kept: AppSpec['hooks'] = {};
  for (const [hook, list] of Object.entries(hooks)) if (list) kept[hook as keyof AppSpec['hooks']] = list;
  if (!health) return { hooks: kept };
  return {
    hooks: kept,
    health: {
      ...(health.http !== undefined ? { http: health.http } : {}),
      ...(health.command !== undefined ? { command: health.command } : {}),
      timeoutMs: health.timeoutMs,
      intervalMs: health.intervalMs,
    },
  };
}
