import type { IngestResult } from '../app/ingest-events.ts';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { Telemetry } from '../ports/telemetry.ts';
import type { SourceConnector, SourceStateStore } from './ports.ts';
import type { SourceConfig } from './source-config.ts';

/** What pulling sources needs: narrow ports, ingest bound to the shared use case (see pullDepsOf). */
export interface PullDeps {
  sources: readonly SourceConfig[];
  state: SourceStateStore;
  connector: SourceConnector;
  ingest(orgId: string, events: readonly unknown[]): Promise<IngestResult>;
  clock: Clock;
  log: Logger;
  telemetry: Pick<Telemetry, 'sourcePulled'>;
  /** Rows whose event would be past raw retention are skipped, not sent. */
  rawRetentionMs: number;
}
