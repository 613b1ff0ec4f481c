import { z } from 'zod';
import { isValidOrgId } from '../domain/organization.ts';

/**
 * `sources` in meterboard.config.json (SPEC §7, issue 11): SQL databases meterboard pulls
 * from. Validated once at start; every issue names the field and the reason.
 */

const DURATION = /^(\d+)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const match = DURATION.exec(text.trim());
      const ms = match ? Number(match[1]) * (UNIT_MS[match[2]!] ?? 0) : 0;
      if (ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `expected a positive duration like 30s, 5m, 1h, 2d (got "${text}")` });
        return z.NEVER;
      }
      return ms;
    });

const orgId = z.string().refine(isValidOrgId, { message: 'must be a meterboard organization id (slug or UUID)' });
/** A column or table name, optionally schema-qualified; quoted when the SQL is built. */
const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$/, 'must be a plain SQL identifier such as created_at or app.users');

export const SNAPSHOT_PERIODS = { '1h': 3_600_000, '1d': 86_400_000 } as const;

export const snapshotConfigSchema = z
  .object({
    name: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    /** Returns a `value` column (one row), or `org` and `value` columns (one row per source organization). */
    sql: z.string().min(1, 'must not be empty'),
    every: z.enum(['1h', '1d'], { error: () => 'must be "1h" or "1d"' }),
    unit: z.string().min(1).max(64).default('count'),
    category: z.string().min(1).max(64).default('snapshots'),
  })
  .strict();

export const tableConfigSchema = z
  .object({
    table: identifier,
    /** Event type each row becomes (a built-in type or a custom one). */
    event: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be an event type name'),
    key: identifier.default('id'),
    /** The event timestamp. */
    created: identifier.default('created_at'),
    /** Bumped on every update; rows are re-read when it moves. Absent: only the re-scan window catches updates. */
    modified: identifier.optional(),
    /** Column holding the source organization id (mapped through `orgs`); absent with `org`. */
    org_column: identifier.optional(),
    /** event attribute → column. */
    attributes: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]{0,63}$/, 'attribute names are letters, digits, _ and .'), identifier).default({}),
  })
  .strict();

export const sourceConfigSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be 1-32 lower-case letters, digits, _ or -, starting with a letter or digit'),
    kind: z.literal('postgres', { error: () => 'must be "postgres" (the only kind so far)' }),
    url: z.string().refine((url) => /^postgres(ql)?:\/\//.test(url), { message: 'must be a URL starting with postgres:// or postgresql://' }),
    /** search_path for the source's tables (Unstract's DB_SCHEMA, "unstract" by default there). */
    schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain schema name').optional(),
    preset: z.enum(['unstract'], { error: () => 'must be "unstract" (the only preset so far)' }).optional(),
    tables: z.array(tableConfigSchema).optional(),
    /** source organization id → meterboard organization id; rows of unlisted organizations are skipped. */
    orgs: z.record(z.string().min(1), orgId).optional(),
    /** Every row goes to this meterboard organization. */
    org: orgId.optional(),
    every: duration('5m'),
    rescan: duration('1h'),
    snapshots: z.array(snapshotConfigSchema).default([]),
  })
  .strict()
  .superRefine((source, ctx) => {
    if (source.preset !== undefined && source.tables !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tables'], message: 'give either preset or tables, not both' });
    }
    if (source.preset === undefined && source.tables === undefined && source.snapshots.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['preset'], message: 'give a preset, tables or snapshots (there is nothing to pull)' });
    }
    if ((source.orgs === undefined) === (source.org === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['orgs'], message: 'give exactly one of orgs (source org id → meterboard org id) or org' });
    }
    source.tables?.forEach((table, index) => {
      if (table.org_column !== undefined && source.orgs === undefined) {
        ctx.addIssue({ code: 'custom', path: ['tables', index, 'org_column'], message: 'needs orgs to map its values to meterboard organizations' });
      }
      if (table.org_column === undefined && source.org === undefined) {
        ctx.addIssue({ code: 'custom', path: ['tables', index, 'org_column'], message: 'is required unless the source sets org' });
      }
    });
    const names = new Set<string>();
    source.snapshots.forEach((snapshot, index) => {
      if (names.has(snapshot.name)) ctx.addIssue({ code: 'custom', path: ['snapshots', index, 'name'], message: `duplicate snapshot name "${snapshot.name}"` });
      names.add(snapshot.name);
    });
  });

export const sourcesConfigSchema = z.array(sourceConfigSchema).superRefine((sources, ctx) => {
  const seen = new Set<string>();
  sources.forEach((source, index) => {
    if (seen.has(source.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate source name "${source.name}"` });
    seen.add(source.name);
  });
});

export type SourceConfig = z.infer<typeof sourceConfigSchema>;
export type SnapshotConfig = z.infer<typeof snapshotConfigSchema>;
export type TableConfig = z.infer<typeof tableConfigSchema>;
