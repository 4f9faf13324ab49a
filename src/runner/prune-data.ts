/**
 * Keeps disk use bounded (the server config's `retention`): deletes
 * finished executions with their logs and history, artifact and source
 * files nothing needs any more (with PostgreSQL: in the database, only
 * when no execution the policy keeps names their digest, and in the local
 * cache), handled webhook payloads and ids, and local
 * workspaces a crash left behind.
 *
 * Never pruned, whatever their age: anything an unfinished execution uses,
 * and, for every environment, the executions (with their artifacts) of its
 * newest `keep_releases` distinct releases — at least two, so the current
 * release and the one a rollback goes back to always remain.
 */
import { readdir, realpath, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseSource } from '../artifact/source-ref.ts';
import { DEFAULT_KEEP_RELEASES } from '../config/deploy-target.ts';
import { DEFAULT_RETENTION, type RetentionRules } from '../config/retention-rules.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { openLocalWorkspaces } from '../executor/local-executor.ts';
import { removeTree } from '../executor/remove-tree.ts';
import type { ExecutionStore, InboxStore, ArtifactRecordStore, Store } from '../store/store.ts';
import { deploysByEnvironment } from './deploy-history.ts';

export interface PruneReport {
  executions: number;
  artifacts: number;
  sources: number;
  /** Artifacts and sources deleted from the database (PostgreSQL only; the counts above are then of cached files). */
  blobs?: number;
  payloads: number;
  deliveries: number;
  workspaces: number;
}

export interface PruneInput {
  store: ExecutionStore & InboxStore & ArtifactRecordStore & Pick<Store, 'blobs'>;
  server: ServerConfig | undefined;
  dataDir: string;
  now: number;
  rules?: RetentionRules;
}

/**
 * A file younger than this is never removed: a build stores its artifact
 * (and a push its source) a moment before the store records who uses it.
 */
const FRESH_MS = 3_600_000;
const ALL = 1_000_000_000;
const ARTIFACT_FILE = /^([0-9a-f]{64})\.tar\.gz$/;

export async function pruneData(input: PruneInput): Promise<PruneReport> {
  const { store, now } = input;
  const rules = input.rules ?? DEFAULT_RETENTION;
  const kept = await keptReleases(store, input.server);

  const old = await store.listFinishedExecutions(now - rules.executionsMs);
  const executions = await store.deleteExecutions(old.filter((id) => !kept.has(id)));

  const recent = (use: { status: string; updatedAt: number }) =>
    use.status === 'running' || use.updatedAt >= now - rules.artifactsMs;
  const digests = new Set(
    (await store.listArtifactUses()).filter((use) => recent(use) || kept.has(use.executionId)).map((use) => use.sha256),
  );
  const artifactsDir = resolve(input.dataDir, 'artifacts');
  const artifacts = await removeFiles(artifactsDir, now, (name) => {
    const digest = ARTIFACT_FILE.exec(name)?.[1];
    return digest === undefined ? name.startsWith('.incoming-') : !digests.has(digest);
  });

  const sourcesDir = resolve(input.dataDir, 'sources');
  const sourceFiles = new Set<string>();
  const sourceDigests = new Set<string>();
  for (const use of (await store.listSourceUses()).filter(recent)) {
    const ref = parseSource(use.source);
    if ('file' in ref) sourceFiles.add(resolve(ref.file));
    else sourceDigests.add(ref.sha256);
  }
  const sources = await removeFiles(sourcesDir, now, (name) => {
    const digest = ARTIFACT_FILE.exec(name)?.[1];
    if (digest !== undefined && sourceDigests.has(digest)) return false;
    return !sourceFiles.has(join(sourcesDir, name));
  });
  // With PostgreSQL the database holds them for every replica, and the files above were only this one's cache.
  const blobs = store.blobs && (await store.blobs.prune([...digests, ...sourceDigests], now - FRESH_MS)).length;

  const { payloads, deliveries } = await store.pruneDeliveries(now - rules.webhookPayloadsMs, now - rules.webhookIdsMs);
  const workspaces = await removeWorkspaces(resolve(input.dataDir, 'workspaces'), now - rules.workspacesMs);
  return { executions, artifacts, sources, ...(blobs !== undefined && { blobs }), payloads, deliveries, workspaces };
}

/** What a report says, or undefined when nothing was pruned. */
export function describePrune(report: PruneReport): string | undefined {
  const parts = (
    [
      [report.executions, 'finished execution'],
      [report.artifacts, 'artifact file'],
      [report.sources, 'source file'],
      [report.blobs ?? 0, 'database blob'],
      [report.payloads, 'webhook payload'],
      [report.deliveries, 'webhook delivery id'],
      [report.workspaces, 'abandoned workspace'],
    ] as const
  ).filter(([count]) => count > 0);
  if (parts.length === 0) return undefined;
  return `Sluice pruned ${parts.map(([count, what]) => `${count} ${what}${count === 1 ? '' : 's'}`).join(', ')} (retention).`;
}

/**
 * Ids of the executions that hold each environment's newest releases, up to
 * its keep_releases distinct revisions and never fewer than two.
 */
async function keptReleases(
  store: ExecutionStore & InboxStore & ArtifactRecordStore & Pick<Store, 'blobs'>,
  server: ServerConfig | undefined,
): Promise<Set<string>> {
  const kept = new Set<string>();
  for (const pipeline of await store.listPipelines()) {
    const executions = await store.listExecutions({ pipelineId: pipeline.id, limit: ALL });
    for (const [environment, deploys] of deploysByEnvironment(executions)) {
      const keep = Math.max(2, server?.environments?.[environment]?.keep_releases ?? DEFAULT_KEEP_RELEASES);
      const revisions = new Set<string>();
      for (const deploy of deploys) {
        revisions.add(deploy.execution.revision.sha);
        if (revisions.size > keep) break;
        kept.add(deploy.execution.id);
      }
    }
  }
  return kept;
}

/** Removes the files in `dir` that `unwanted` names, unless changed in the last hour; returns how many. */
async function removeFiles(dir: string, now: number, unwanted: (name: string) => boolean): Promise<number> {
  let removed = 0;
  for (const entry of await listDir(dir)) {
    if (!entry.isFile() || !unwanted(entry.name)) continue;
    const path = join(dir, entry.name);
    const info = await stat(path).catch(() => undefined);
    if (!info || info.mtimeMs > now - FRESH_MS) continue;
    await rm(path, { force: true });
    removed++;
  }
  return removed;
}

/** Removes local workspaces no session of this process has open and unchanged since `before`. */
async function removeWorkspaces(given: string, before: number): Promise<number> {
  // Open workspaces are named by their real path.
  const dir = await realpath(given).catch(() => given);
  const open = openLocalWorkspaces();
  let removed = 0;
  for (const entry of await listDir(dir)) {
    const path = join(dir, entry.name);
    if (!entry.isDirectory() || !entry.name.startsWith('sluice-ws-') || open.has(path)) continue;
    const info = await stat(path).catch(() => undefined);
    if (!info || info.mtimeMs > before) continue;
    await removeTree(path);
    removed++;
  }
  return removed;
}

async function listDir(dir: string) {
  return readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
}
