import type { Config } from '../config/config.ts';
import type { ContextHandle } from '../compose.ts';
import type { AppContext } from '../app/context.ts';

/** Config for one-shot commands: quiet logs unless LOG_LEVEL asks otherwise. */
export async function cliConfig(env: NodeJS.ProcessEnv = process.env): Promise<Readonly<Config>> {
  const { loadConfig } = await import('../config/config.ts');
  const config = loadConfig(env);
  return env['LOG_LEVEL'] ? config : Object.freeze({ ...config, logLevel: 'warn' });
}

/**
 * Opens a context, runs `work`, always closes it. The wiring (and with it every driver) is
 * imported only when a command needs it, so `--version` and `--help` start fast.
 */
export async function withContext<T>(work: (ctx: AppContext) => Promise<T>, config?: Readonly<Config>): Promise<T> {
  const { createContext } = await import('../compose.ts');
  const handle: ContextHandle = await createContext(config ?? (await cliConfig()), { processMetrics: false });
  try {
    return await work(handle.ctx);
  } finally {
    await handle.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
