import { inject } from 'vitest';

/**
 * The storage engines every engine-parametrised suite runs on, decided once per run by
 * test/support/global-setup.ts (no test file probes PostgreSQL itself). `TEST_ENGINES=sqlite`
 * (or `postgres`) narrows a local run to one engine.
 */
export type Engine = 'sqlite' | 'postgres';

export const POSTGRES_AVAILABLE: boolean = inject('postgresAvailable');

function selectEngines(): Engine[] {
  const available: Engine[] = POSTGRES_AVAILABLE ? ['sqlite', 'postgres'] : ['sqlite'];
  const wanted = process.env['TEST_ENGINES']?.split(',').map((name) => name.trim()).filter(Boolean);
  if (wanted === undefined || wanted.length === 0) return available;
  const unknown = wanted.filter((name) => name !== 'sqlite' && name !== 'postgres');
  if (unknown.length > 0) throw new Error(`TEST_ENGINES: unknown engine(s) ${unknown.join(', ')}; use sqlite, postgres`);
  const missing = wanted.filter((name) => !available.includes(name as Engine));
  if (missing.length > 0) throw new Error(`TEST_ENGINES asks for ${missing.join(', ')}, which is not reachable`);
  return wanted as Engine[];
}

export const ENGINES: readonly Engine[] = selectEngines();
/** Suites that exist only for PostgreSQL run when it is selected. */
export const POSTGRES_SELECTED: boolean = ENGINES.includes('postgres');
