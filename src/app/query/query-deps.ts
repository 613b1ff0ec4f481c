import type { AppContext } from '../context.ts';

/**
 * What the read side may use: org lookups, data versions (cache keys), raw events and rollups,
 * the cache. Never a writer: queries cannot change stored data.
 */
export type QueryDeps = Pick<AppContext, 'orgStore' | 'dataVersions' | 'eventReader' | 'rollupReader' | 'cache' | 'clock' | 'config' | 'metrics' | 'log'>;

/** The merge stage reads rollups and the raw-event edges. */
export type PartialsDeps = Pick<AppContext, 'eventReader' | 'rollupReader' | 'metrics' | 'clock' | 'config'>;
