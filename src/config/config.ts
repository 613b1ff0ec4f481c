import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { CompareSettings } from '../domain/compare.ts';
import { isValidTimeZone } from '../domain/organization.ts';
import { metricDefinitionSchema } from './metric-schema.ts';
import { sourcesConfigSchema } from '../sources/source-config.ts';
import { ConfigError } from './config-error.ts';
import { parseConfigAlertRules, type ConfigAlertRule } from '../alerts/domain/config-rules.ts';
import { ValidationError } from '../domain/errors.ts';

/**
 * The one configuration schema. `loadConfig` reads the environment (and an optional
 * `meterboard.config.json`) once at start and returns a frozen object that is passed down;
 * nothing else reads `process.env`.
 */

const durationPattern = /^(\d+)\s*(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "60s", "5m", "90d", or a bare number of seconds. */
export function parseDuration(text: string, bareUnit: keyof typeof UNIT_MS = 's'): number | null {
  const match = durationPattern.exec(text.trim());
  if (!match) return null;
  const unit = match[2] ?? bareUnit;
  return Number(match[1]) * (UNIT_MS[unit] ?? 1000);
}

const duration = (bareUnit: keyof typeof UNIT_MS, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text, bareUnit);
      if (ms === null || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `expected a positive duration like 60s, 5m, 90d (got "${text}")` });
        return z.NEVER;
      }
      return ms;
    });

/** An empty value counts as unset, as for the URLs; the error says what is expected, not "received NaN". */
const intFromEnv = (fallback: number, min: number, max: number) =>
  z
    .union([z.string(), z.number()])
    .optional()
    .transform((raw, ctx) => {
      const text = String(raw ?? '').trim();
      if (text === '') return fallback;
      const value = Number(text);
      if (!Number.isInteger(value) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max} (got "${String(raw)}")` });
        return z.NEVER;
      }
      return value;
    });

const urlWithScheme = (schemes: string[]) =>
  z
    .string()
    .optional()
    .refine((value) => value === undefined || value === '' || schemes.some((s) => value.startsWith(`${s}://`)), {
      message: `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
    })
    .transform((value) => (value === '' ? undefined : value));

export const envSchema = z.object({
  PORT: intFromEnv(8080, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: urlWithScheme(['postgres', 'postgresql']),
  REDIS_URL: urlWithScheme(['redis', 'rediss']),
  ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  AGGREGATE_EVERY: duration('s', '60s'),
  /** Threads of a backlog aggregation pass (ADR 0016); unset or 0: one per core but one, 1 to 4. */
  AGGREGATION_THREADS: intFromEnv(0, 0, 16),
  RETENTION_RAW: duration('d', '90d'),
  RETENTION_HOUR: duration('d', '30d'),
  RETENTION_DAY: duration('d', '400d'),
  /** Week and month rollups are kept unless set. */
  RETENTION_WEEK: z.string().optional(),
  RETENTION_MONTH: z.string().optional(),
  MAX_EVENTS_PER_REQUEST: intFromEnv(10_000, 1, 1_000_000),
  MAX_BODY_BYTES: intFromEnv(5 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  /** How far ahead of the server clock an event timestamp may be. */
  MAX_FUTURE_SKEW: duration('s', '5m'),
  SMTP_URL: urlWithScheme(['smtp', 'smtps']),
  REPORT_FROM: z.string().default('meterboard@localhost'),
  DEFAULT_TIMEZONE: z
    .string()
    .default('UTC')
    .refine(isValidTimeZone, { message: 'unknown IANA time zone' }),
  CONFIG_FILE: z.string().optional(),
  DEBUG_HEADERS: z
    .enum(['true', 'false', '1', '0', ''], { error: () => 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  RATE_LIMIT_PER_KEY: intFromEnv(6000, 1, 1_000_000),
  RATE_LIMIT_AUTH_FAILURES: intFromEnv(100, 1, 1_000_000),
  REQUEST_TIMEOUT: duration('s', '30s'),
  /** When set, GET /metrics wants `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(8, 'at least 8 characters').optional(),
  /** Port of the worker's own /metrics and /health (server mode); unset = 9464. */
  WORKER_PORT: intFromEnv(9464, 0, 65_535),
});

const percent = z.number().positive().max(100_000);
const compareSchema = z
  .object({
    warning_pct: percent.default(10),
    critical_pct: percent.default(25),
    /** Per metric name (built-in or custom): thresholds and good direction. */
    metrics: z
      .record(
        z.string(),
        z.object({ warning_pct: percent.optional(), critical_pct: percent.optional(), good_direction: z.enum(['up', 'down', 'neutral']).optional() }).strict(),
      )
      .default({}),
  })
  .strict()
  .refine((c) => c.warning_pct <= c.critical_pct, { message: 'must not be below warning_pct', path: ['critical_pct'] });

export const fileConfigSchema = z
  .object({
    metrics: z.array(metricDefinitionSchema).default([]),
    compare: compareSchema.default({ warning_pct: 10, critical_pct: 25, metrics: {} }),
    /** Alert rules: the API's rule body plus `org`; checked by parseConfigAlertRules (errors name the rule). */
    alerts: z.array(z.unknown()).default([]),
    sources: sourcesConfigSchema.default([]),
    /** Business series export (GET /api/v1/prometheus): opt-in dimension labels and a series cap. */
    prometheus: z
      .object({
        labels: z.record(z.string(), z.array(z.string().min(1))).default({}),
        maxSeriesPerOrg: z.number().int().min(10).max(1_000_000).default(2000),
      })
      .strict()
      .default({ labels: {}, maxSeriesPerOrg: 2000 }),
  })
  .strict();

export type FileConfig = z.infer<typeof fileConfigSchema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  mode: 'embedded' | 'server';
  adminKey: string | undefined;
  logLevel: string;
  /** auto: readable lines on a terminal, JSON lines otherwise. */
  logFormat: 'auto' | 'json' | 'pretty';
  aggregateEveryMs: number;
  /** AGGREGATION_THREADS: threads folding a backlog pass's days, the aggregating one included; 'auto': one per core but one, 1 to 4. */
  aggregationThreads: number | 'auto';
  retention: { rawMs: number; hourMs: number; dayMs: number; weekMs: number | null; monthMs: number | null };
  limits: { maxEventsPerRequest: number; maxBodyBytes: number; maxFutureSkewMs: number };
  smtpUrl: string | undefined;
  reportFrom: string;
  defaultTimezone: string;
  /** Change levels (warning/critical %) and per-metric overrides for compare, reports and alerts. */
  compare: CompareSettings;
  /** DEBUG_HEADERS: answer with `x-cache: hit|miss` (off: callers must not learn the cache state). */
  debugHeaders: boolean;
  rateLimits: {
    /** RATE_LIMIT_PER_KEY: requests per minute per API key. */
    perKeyPerMinute: number;
    /** RATE_LIMIT_AUTH_FAILURES: failed authentications per minute per client IP. */
    authFailuresPerMinute: number;
  };
  /** REQUEST_TIMEOUT: a handler still running after this is abandoned with 503 `timeout`. */
  requestTimeoutMs: number;
  customMetrics: FileConfig['metrics'];
  /** Config-managed alert rules (src/alerts): upserted per organization, refused by the API's writes. */
  alerts: ConfigAlertRule[];
  sources: FileConfig['sources'];
  prometheus: FileConfig['prometheus'];
  metricsToken: string | undefined;
  workerPort: number;
}

export { ConfigError };

function optionalRetention(name: string, text: string | undefined): number | null {
  if (text === undefined || text === '' || text === 'forever') return null;
  const ms = parseDuration(text, 'd');
  if (ms === null || ms <= 0) throw new ConfigError(name, `expected a positive duration like 400d or "forever" (got "${text}")`);
  return ms;
}

function readFileConfig(file: string, explicit: boolean): FileConfig {
  if (!existsSync(file)) {
    if (explicit) throw new ConfigError('CONFIG_FILE', `file not found: ${file}`);
    return fileConfigSchema.parse({});
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(path.basename(file), `not valid JSON: ${(error as Error).message}`);
  }
  const parsed = fileConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${path.basename(file)} ${issue.path.join('.')}`.trim(), issue.message);
  }
  return parsed.data;
}

function configAlertRules(entries: unknown[], fileName: string): ConfigAlertRule[] {
  try {
    return parseConfigAlertRules(entries);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const issue = error.issues[0];
    throw new ConfigError(`${fileName} ${issue?.field ?? 'alerts'}`, issue?.message ?? error.message);
  }
}

/** Parses the environment once. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Readonly<Config> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  if (e.RETENTION_HOUR > e.RETENTION_DAY) {
    throw new ConfigError('RETENTION_HOUR', 'must not exceed RETENTION_DAY (days are rebuilt from hours)');
  }
  const configFile = e.CONFIG_FILE ?? path.join(cwd, 'meterboard.config.json');
  const file = readFileConfig(configFile, e.CONFIG_FILE !== undefined);
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(cwd, e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    mode: e.DATABASE_URL ? 'server' : 'embedded',
    adminKey: e.ADMIN_KEY,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    aggregateEveryMs: e.AGGREGATE_EVERY,
    aggregationThreads: e.AGGREGATION_THREADS === 0 ? 'auto' : e.AGGREGATION_THREADS,
    retention: {
      rawMs: e.RETENTION_RAW,
      hourMs: e.RETENTION_HOUR,
      dayMs: e.RETENTION_DAY,
      weekMs: optionalRetention('RETENTION_WEEK', e.RETENTION_WEEK),
      monthMs: optionalRetention('RETENTION_MONTH', e.RETENTION_MONTH),
    },
    limits: {
      maxEventsPerRequest: e.MAX_EVENTS_PER_REQUEST,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxFutureSkewMs: e.MAX_FUTURE_SKEW,
    },
    smtpUrl: e.SMTP_URL,
    reportFrom: e.REPORT_FROM,
    defaultTimezone: e.DEFAULT_TIMEZONE,
    compare: {
      defaults: { warningPct: file.compare.warning_pct, criticalPct: file.compare.critical_pct },
      metrics: Object.fromEntries(
        Object.entries(file.compare.metrics).map(([name, o]) => [name, { warningPct: o.warning_pct, criticalPct: o.critical_pct, goodDirection: o.good_direction }]),
      ),
    },
    debugHeaders: e.DEBUG_HEADERS,
    rateLimits: { perKeyPerMinute: e.RATE_LIMIT_PER_KEY, authFailuresPerMinute: e.RATE_LIMIT_AUTH_FAILURES },
    requestTimeoutMs: e.REQUEST_TIMEOUT,
    customMetrics: file.metrics,
    alerts: configAlertRules(file.alerts, path.basename(configFile)),
    sources: file.sources,
    prometheus: file.prometheus,
    metricsToken: e.METRICS_TOKEN,
    workerPort: e.WORKER_PORT,
  };
  return Object.freeze(config);
}
