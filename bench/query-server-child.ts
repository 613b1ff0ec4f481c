import { createHttpServer } from '../src/compose.ts';
import { createBenchCache, createBenchContext, noCache, openStorage, ownPeakRssMb, type BenchOptions, type CacheKind, type DatabaseLocation } from './support.ts';

/**
 * The query benchmark's server, in a process of its own (spawned by query.bench.ts) so that
 * its peak RSS is the server's under the query mix, not the loader's or DuckDB's. Two HTTP
 * servers over one storage: one whose cache never hits (uncached figures) and one with the
 * mode's real cache. Prints `READY {json}` with their addresses. On the IPC message 'memory'
 * it answers its memory figures; on 'report' it answers them and exits.
 */

export interface ServerChildInput {
  location: DatabaseLocation;
  cacheKind: CacheKind;
  redisUrl: string;
}

export interface ServerChildReady {
  uncached: string;
  cached: string;
  startRssMb: number;
}

export interface ServerChildReport {
  /** The kernel's high-water mark of this process (VmHWM, see ownPeakRssMb): the peak over every request served. */
  maxRssMb: number;
  rssMb: number;
  heapUsedMb: number;
}

const input = JSON.parse(process.argv[2] ?? '{}') as ServerChildInput;
const options: BenchOptions = { pgUrl: '', redisUrl: input.redisUrl, keep: true, log: () => undefined };
const storage = openStorage(input.location);
const cache = createBenchCache(input.cacheKind, options);
const uncachedApp = createHttpServer(createBenchContext(storage, noCache), { logger: false });
const cachedApp = createHttpServer(createBenchContext(storage, cache), { logger: false });
const ready: ServerChildReady = {
  uncached: await uncachedApp.listen({ host: '127.0.0.1', port: 0 }),
  cached: await cachedApp.listen({ host: '127.0.0.1', port: 0 }),
  startRssMb: process.memoryUsage.rss() / 1e6,
};
process.stdout.write(`READY ${JSON.stringify(ready)}\n`);

const memory = (): ServerChildReport => ({
  maxRssMb: ownPeakRssMb(),
  rssMb: process.memoryUsage.rss() / 1e6,
  heapUsedMb: process.memoryUsage().heapUsed / 1e6,
});

process.on('message', (message) => {
  if (message === 'memory') process.send!(memory());
  if (message !== 'report') return;
  process.send!(memory(), () => {
    void (async () => {
      await Promise.allSettled([uncachedApp.close(), cachedApp.close()]);
      await Promise.allSettled([cache.close(), storage.close()]);
      process.exit(0);
    })();
  });
});
