import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { createContext, createHttpServer } from '../../src/compose.ts';
import { seedDemo } from '../../src/app/seed-demo.ts';
import { createKey } from '../../src/app/manage-orgs.ts';

/**
 * The real application (compose.ts wiring, embedded SQLite in a temp directory, real clock)
 * listening on 127.0.0.1 with an ephemeral port — what a user gets from `meterboard serve`.
 */
export interface TestApp {
  url: string;
  adminKey: string;
  readKey: string;
  orgId: string;
  close(): Promise<void>;
}

export async function startTestApp(options: { seedDemo?: boolean; eventsPerDay?: number; days?: number } = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'meterboard-app-'));
  const adminKey = `test-admin-${Math.random().toString(36).slice(2)}-0123456789`;
  const config = loadConfig({ DATA_DIR: dataDir, ADMIN_KEY: adminKey, LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', CONFIG_FILE: undefined }, dataDir);
  const handle = await createContext(config, { processMetrics: false });
  const app = createHttpServer(handle.ctx, { logger: false, checkResponses: true });
  let orgId = 'acme';
  try {
    if (options.seedDemo) {
      const seeded = await seedDemo(handle.ctx, { days: options.days ?? 35, orgs: 1, eventsPerDay: options.eventsPerDay ?? 800 });
      orgId = seeded.orgs[0]!.id;
    } else {
      await handle.ctx.orgStore.createOrg({ id: orgId, name: 'Acme', timezone: 'UTC' }, Date.now());
    }
    const readKey = (await createKey(handle.ctx, { orgId, scope: 'read', name: 'e2e' })).secret;
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url: address,
      adminKey,
      readKey,
      orgId,
      async close() {
        await app.close();
        await handle.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await app.close().catch(() => undefined);
    await handle.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
