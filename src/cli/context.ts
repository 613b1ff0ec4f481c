import { loadConfig, type Config } from '../config/config.ts';
import { createContext, type ContextHandle } from '../compose.ts';
import type { AppContext } from '../app/context.ts';

/** Config for one-shot commands: quiet logs unless LOG_LEVEL asks otherwise. */
export function cliConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const config = loadConfig(env);
  return env['LOG_LEVEL'] ? config : Object.freeze({ ...config, logLevel: 'warn' });
}

/** Opens a context, runs `work`, always closes it. */
export async function withContext<T>(work: (ctx: AppContext) => Promise<T>, config = cliConfig()): Promise<T> {
  const handle: ContextHandle = await createContext(config, { processMetrics: false });
  try {
    return await work(handle.ctx);
  } finally {
    await handle.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
