/**
 * What the service's GitHub and Slack sides are built from: the settings,
 * the store, the operator's server config, the runner, the page links, the
 * metrics, the logger and the clock — one object, handed to each.
 */
import type { ArtifactStore } from '../artifact/artifact-store.ts';
import type { Settings } from '../config/read-settings.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import type { Logger } from '../log/create-logger.ts';
import type { SluiceMetrics } from '../metrics/sluice-metrics.ts';
import type { PipelineRunner } from '../runner/pipeline-runner.ts';
import type { StoreConcerns } from '../store/store.ts';
import type { PageLinks } from '../web/page-links.ts';

export interface ServiceContext {
  settings: Settings;
  store: StoreConcerns;
  server: ServerConfig;
  runner: PipelineRunner;
  /** Downloaded sources: in the shared database with PostgreSQL, else files in the data directory. */
  sources: ArtifactStore;
  links: PageLinks;
  metrics: SluiceMetrics;
  logger: Logger;
  clock: () => number;
}
