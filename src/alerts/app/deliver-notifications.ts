import type { AppContext } from '../../app/context.ts';
import { retryDelayMs } from '../../reports/domain/schedule.ts';
import type { AlertChannel, AlertDeliveryRecord } from '../ports.ts';

/**
 * Sends alert notifications through the ledger (the report ledger's protocol: claim under a
 * lease, mark delivered or failed with the reports' backoff). A notification is tried at once
 * when its transition happens and then by the `alert-notifications` job until it is delivered:
 * a failure is never dropped, only postponed (1 min, 2 min, 4 min … capped at 1 h).
 */

export type NotificationDeps = Pick<AppContext, 'alerts' | 'reports' | 'clock' | 'config' | 'log' | 'telemetry'>;

/** A crashed sender's row becomes claimable again after this. */
const LEASE_MS = 2 * 60_000;
const DUE_BATCH = 200;

export interface NotificationOutcome {
  eventId: number;
  orgId: string;
  channel: AlertChannel;
  result: 'delivered' | 'failed';
  attempt: number;
  error?: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

async function send(ctx: NotificationDeps, orgId: string, eventId: number, channel: AlertChannel): Promise<void> {
  const notice = await ctx.alerts.store.getNotice(eventId);
  if (notice === null) throw new Error(`alert event ${eventId} has no stored notice`);
  // Recipients and URL as configured now: a retry after fixing the settings reaches the fixed address.
  const settings = await ctx.reports.store.getSettings(orgId);
  if (channel === 'email') {
    if (settings.recipients.length === 0) throw new Error(`no e-mail recipients for organization "${orgId}" (PUT …/reports/settings)`);
    if (ctx.reports.mailer === null) throw new Error('SMTP_URL is not set: cannot send e-mail');
    await ctx.reports.mailer.send({
      from: ctx.config.reportFrom,
      to: settings.recipients,
      subject: notice.subject,
      html: `<pre>${escapeHtml(notice.text)}</pre>`,
      text: notice.text,
      // Stable per event: a receiver can drop the duplicate of a send whose outcome was lost in a crash.
      messageId: `<alert-${orgId}-${eventId}@meterboard>`,
      attachments: [],
    });
    return;
  }
  if (settings.webhookUrl === null) throw new Error(`no webhook URL for organization "${orgId}" (PUT …/reports/settings)`);
  await ctx.reports.webhook.post(settings.webhookUrl, notice.webhook);
}

/** One attempt of one (event, channel), if this process wins the claim; null when another has it or it is not due. */
export async function attemptNotification(ctx: NotificationDeps, row: Pick<AlertDeliveryRecord, 'eventId' | 'orgId' | 'channel'>): Promise<NotificationOutcome | null> {
  const { eventId, orgId, channel } = row;
  const holder = ctx.reports.holder;
  const attempt = await ctx.alerts.store.claimDelivery(eventId, channel, holder, ctx.clock.now(), LEASE_MS);
  if (attempt === null) return null;
  try {
    await send(ctx, orgId, eventId, channel);
    await ctx.alerts.store.markDelivered(eventId, channel, holder, ctx.clock.now());
    ctx.telemetry.alertNotification?.(channel, 'delivered');
    return { eventId, orgId, channel, result: 'delivered', attempt };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const now = ctx.clock.now();
    await ctx.alerts.store.markFailed(eventId, channel, holder, message, now + retryDelayMs(attempt), now);
    ctx.telemetry.alertNotification?.(channel, 'failed');
    ctx.log.warn({ orgId, eventId, channel, attempt, err: error }, 'alert notification failed; kept in the ledger and retried with backoff');
    return { eventId, orgId, channel, result: 'failed', attempt, error: message };
  }
}

/** One pass of the `alert-notifications` job: every due row (new, failed and due, or orphaned by a crash). */
export async function deliverDueNotifications(ctx: NotificationDeps): Promise<NotificationOutcome[]> {
  const outcomes: NotificationOutcome[] = [];
  for (const row of await ctx.alerts.store.dueDeliveries(ctx.clock.now(), DUE_BATCH)) {
    const outcome = await attemptNotification(ctx, row);
    if (outcome !== null) outcomes.push(outcome);
  }
  return outcomes;
}
