import type { AppContext } from '../app/context.ts';
import { NotFoundError } from '../domain/errors.ts';
import type { Organization } from '../domain/organization.ts';
import { floorBucket } from '../domain/time-buckets.ts';
import { familyHeader, PREFIX, renderFamilies, sampleLine, type Family } from './exposition.ts';
import { computeOrgSeries, type OrgSeries, type PrometheusSettings } from './org-series.ts';

/**
 * The scrape endpoints' use case: renders the business series of one organization or of all,
 * cached per organization under its data version (bumped by every aggregation pass that
 * rewrites its rollups), its time zone and the current hour (the windows move with it). A
 * scrape between two passes recomputes nothing: it reads the data versions and joins text.
 */

export interface BusinessExport {
  renderAll(): Promise<string>;
  renderOrg(orgId: string): Promise<string>;
}

const LAG_FAMILY: Family = {
  name: `${PREFIX}aggregation_lag_seconds`,
  type: 'gauge',
  help: 'Seconds since the end of the oldest hour with events not aggregated yet (0 when none is waiting).',
};

/** Organizations computed at once on a cold scrape: bounds the database connections it takes. */
const CONCURRENCY = 8;

interface CacheEntry {
  key: string;
  series: OrgSeries;
}

export function createBusinessExport(ctx: AppContext, settings: PrometheusSettings): BusinessExport {
  const byOrg = new Map<string, CacheEntry>();
  let whole: { key: string; text: string } | null = null;

  async function seriesOf(org: Organization, version: number): Promise<{ key: string; series: OrgSeries }> {
    const key = `${version}|${org.timezone}|${floorBucket(ctx.clock.now(), 'hour', org.timezone)}`;
    const cached = byOrg.get(org.id);
    if (cached?.key === key) return cached;
    const series = await computeOrgSeries(ctx, org, settings);
    const entry = { key, series };
    byOrg.set(org.id, entry);
    return entry;
  }

  async function render(
    orgs: readonly Organization[],
    all: ReadonlyMap<string, number>,
    reuse: { key: string; text: string } | null,
  ): Promise<{ key: string; text: string }> {
    const versions = orgs.map((org) => all.get(org.id) ?? 0);
    const entries: Array<{ key: string; series: OrgSeries }> = new Array(orgs.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < orgs.length) {
        const i = next++;
        entries[i] = await seriesOf(orgs[i]!, versions[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, orgs.length) }, worker));
    const key = orgs.map((org, i) => `${org.id}=${entries[i]!.key}`).join(';');
    // The same versions as last time: the joined text is reused as is.
    if (reuse?.key === key) return reuse;
    const families = new Map<string, Family>();
    for (const entry of entries) for (const [name, family] of entry.series.families) if (!families.has(name)) families.set(name, family);
    return { key, text: renderFamilies(families, entries.map((entry) => entry.series.lines)) };
  }

  /** Not cached: dirty marks change between passes without a data version bump. */
  function lagLines(orgs: readonly Organization[], oldest: ReadonlyMap<string, number>): string {
    const now = ctx.clock.now();
    let text = familyHeader(LAG_FAMILY);
    for (const org of orgs) {
      const hourStart = oldest.get(org.id);
      const lag = hourStart === undefined ? 0 : Math.max(0, (now - (hourStart + 3_600_000)) / 1000);
      text += sampleLine({ name: LAG_FAMILY.name, labels: [['org', org.id]], value: lag });
    }
    return text;
  }

  return {
    async renderAll() {
      // A scrape between passes is these three reads, one each for every organization, sent at
      // once (on PostgreSQL, one round trip of latency instead of three), plus joining cached text.
      const [orgs, versions, oldest] = await Promise.all([ctx.orgStore.listOrgs(), ctx.jobHealth.listDataVersions(), ctx.jobHealth.oldestDirtyHours()]);
      const live = new Set(orgs.map((org) => org.id));
      for (const id of byOrg.keys()) if (!live.has(id)) byOrg.delete(id);
      whole = await render(orgs, versions, whole);
      return whole.text + lagLines(orgs, oldest);
    },
    async renderOrg(orgId) {
      const [org, versions, oldest] = await Promise.all([ctx.orgStore.getOrg(orgId), ctx.jobHealth.listDataVersions(), ctx.jobHealth.oldestDirtyHours()]);
      if (!org) throw new NotFoundError(`organization "${orgId}" not found`);
      return (await render([org], versions, null)).text + lagLines([org], oldest);
    },
  };
}
