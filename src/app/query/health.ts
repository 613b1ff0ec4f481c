import type { AppContext } from '../context.ts';

/**
 * The one readiness check: `GET /ready` and seed 000's `health` alias both answer from it.
 * Database and cache are checked in parallel, each bounded; healthy unless the database is down.
 */

export interface HealthReport {
  healthy: boolean;
  checks: { database: 'ok' | 'down'; cache: 'ok' | 'degraded' };
  timestamp: string;
}

const CHECK_TIMEOUT_MS = 3000;

function within<T>(promise: Promise<T>, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), CHECK_TIMEOUT_MS);
  });
  return Promise.race([promise.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}

export async function health(ctx: Pick<AppContext, 'cache' | 'clock' | 'log' | 'storageHealth'>): Promise<HealthReport> {
  const [database, cache] = await Promise.all([
    within(
      ctx.storageHealth.ping().then(
        () => 'ok' as const,
        (error: unknown) => {
          ctx.log.error({ err: error }, 'readiness: database check failed');
          return 'down' as const;
        },
      ),
      'down' as const,
    ),
    within(ctx.cache.health(), 'degraded' as const),
  ]);
  return { healthy: database === 'ok', checks: { database, cache }, timestamp: new Date(ctx.clock.now()).toISOString() };
}
