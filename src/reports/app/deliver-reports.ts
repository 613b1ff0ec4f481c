import { evaluateAlertsAfter } from '../../alerts/app/after-aggregation.ts';
import { aggregateDirtyBuckets } from '../../app/aggregate.ts';
import type { AppContext } from '../../app/context.ts';
import { renderSlack } from '../domain/slack.ts';
import { reportDateDue, retryDelayMs } from '../domain/schedule.ts';
import type { DeliveryChannel } from '../ports.ts';
import { buildReport, type RenderedReport } from './build-report.ts';

/**
 * Delivers daily reports: for each organization whose local day just ended, one e-mail and
 * (when configured) one webhook call per date, each recorded in the ledger so it happens once
 * across restarts and workers. A failure is kept with a backoff and retried by a later run.
 */

const LEASE_MS = 5 * 60_000;
const RETRY_BATCH = 100;

export interface DeliveryOutcome {
  orgId: string;
  date: string;
  channel: DeliveryChannel;
  result: 'delivered' | 'failed';
  error?: string;
}

export interface DeliverResult {
  checked: number;
  outcomes: DeliveryOutcome[];
}

/** The channels an organization has configured (recipients → email, a webhook URL → webhook). */
export async function channelsFor(ctx: AppContext, orgId: string): Promise<DeliveryChannel[]> {
  const settings = await ctx.reports.store.getSettings(orgId);
  const channels: DeliveryChannel[] = [];
  if (settings.recipients.length > 0) channels.push('email');
  if (settings.webhookUrl !== null) channels.push('webhook');
  return channels;
}

/** Sends one channel of one report now (no ledger): used by the ledgered path and by `report --send`. */
export async function sendReport(ctx: AppContext, rendered: RenderedReport, channel: DeliveryChannel): Promise<void> {
  const { report } = rendered;
  const settings = await ctx.reports.store.getSettings(report.org.id);
  if (channel === 'email') {
    const to = settings.recipients;
    if (to.length === 0) throw new Error(`no e-mail recipients for organization "${report.org.id}"`);
    if (ctx.reports.mailer === null) throw new Error('SMTP_URL is not set: cannot send e-mail');
    await ctx.reports.mailer.send({
      from: ctx.config.reportFrom,
      to,
      subject: `${report.org.name}: daily metrics report for ${report.date}`,
      html: rendered.emailHtml,
      text: rendered.text,
      messageId: `<report-${report.org.id}-${report.date}@meterboard>`,
      attachments: rendered.images.map((image) => ({ filename: `${image.metricName}.png`, cid: image.cid, content: image.png, contentType: 'image/png' })),
    });
    return;
  }
  const url = settings.webhookUrl;
  if (url === null) throw new Error(`no webhook URL for organization "${report.org.id}"`);
  await ctx.reports.webhook.post(url, { ...report, ...renderSlack(report) });
}

async function deliverOne(ctx: AppContext, orgId: string, date: string, channel: DeliveryChannel, cache: Map<string, Promise<RenderedReport>>): Promise<DeliveryOutcome | null> {
  const { store, holder } = ctx.reports;
  const now = ctx.clock.now();
  if (!(await store.claimDelivery(orgId, date, channel, holder, now, LEASE_MS))) return null;
  const key = `${orgId}\u0000${date}`;
  try {
    let rendering = cache.get(key);
    if (rendering === undefined) {
      rendering = buildReport(ctx, { orgId, date });
      cache.set(key, rendering);
    }
    const rendered = await rendering;
    await store.saveSnapshot({ orgId, date, generatedAt: now, json: JSON.stringify(rendered.report), html: rendered.previewHtml });
    await sendReport(ctx, rendered, channel);
    await store.markDelivered(orgId, date, channel, holder, ctx.clock.now());
    ctx.telemetry.reportDelivery?.(channel, 'delivered');
    return { orgId, date, channel, result: 'delivered' };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const records = await store.listDeliveries(orgId, 50);
    const attempts = records.find((r) => r.date === date && r.channel === channel)?.attempts ?? 1;
    await store.markFailed(orgId, date, channel, holder, message, ctx.clock.now() + retryDelayMs(attempts), ctx.clock.now());
    ctx.telemetry.reportDelivery?.(channel, 'failed');
    ctx.log.warn({ orgId, date, channel, err: error, attempts }, 'daily report delivery failed; will retry');
    return { orgId, date, channel, result: 'failed', error: message };
  }
}

/** One pass of the daily-reports job. Idempotent: running it twice, or on two workers, sends nothing twice. */
export async function deliverDueReports(ctx: AppContext): Promise<DeliverResult> {
  const now = ctx.clock.now();
  const orgs = await ctx.orgStore.listOrgs();
  const cache = new Map<string, Promise<RenderedReport>>();
  const outcomes: DeliveryOutcome[] = [];
  // The day's late events count: bring the rollups up to date before reading them. The pass
  // consumes dirty marks, so the alert rules of the organizations it touched are evaluated here.
  await evaluateAlertsAfter(ctx, () => aggregateDirtyBuckets(ctx)).catch((error: unknown) => ctx.log.warn({ err: error }, 'aggregation before daily reports failed; reporting from current rollups'));
  for (const org of orgs) {
    const date = reportDateDue(now, org.timezone);
    for (const channel of await channelsFor(ctx, org.id)) await ctx.reports.store.ensureDelivery(org.id, date, channel, now);
  }
  // Due rows: today's new ones and earlier failures whose backoff has passed; never dropped.
  for (const due of await ctx.reports.store.dueDeliveries(now, RETRY_BATCH)) {
    const outcome = await deliverOne(ctx, due.orgId, due.date, due.channel, cache);
    if (outcome !== null) outcomes.push(outcome);
  }
  return { checked: orgs.length, outcomes };
}
