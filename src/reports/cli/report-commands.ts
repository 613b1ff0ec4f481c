import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AppContext } from '../../app/context.ts';
import { printJson, withContext } from '../../cli/context.ts';
import { UsageError } from '../../cli/exit.ts';
import { buildReport, type RenderedReport } from '../app/build-report.ts';
import { channelsFor, sendReport } from '../app/deliver-reports.ts';
import { updateReportSettings } from '../app/report-settings.ts';
import { reportDateDue } from '../domain/schedule.ts';
import type { DeliveryChannel } from '../ports.ts';

/** `meterboard report` and `meterboard report-settings` (SPEC §8, issue 10). */

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Sends now and records the delivery in the ledger, so the scheduled job does not send it again. */
async function sendNow(ctx: AppContext, rendered: RenderedReport): Promise<Array<{ channel: DeliveryChannel; result: string }>> {
  const { org, date } = rendered.report;
  // The ledger would mark a partial day delivered, and the real report would never go out.
  const latest = reportDateDue(ctx.clock.now(), org.timezone);
  if (date > latest) throw new UsageError(`--date: ${date} has not ended yet in ${org.timezone} (the latest day that can be sent is ${latest}); preview it without --send`);
  const channels = await channelsFor(ctx, org.id);
  if (channels.length === 0) throw new Error(`organization "${org.id}" has no recipients or webhook: set them with \`meterboard report-settings\``);
  const { store, holder } = ctx.reports;
  const results: Array<{ channel: DeliveryChannel; result: string }> = [];
  await store.saveSnapshot({ orgId: org.id, date, generatedAt: ctx.clock.now(), json: JSON.stringify(rendered.report), html: rendered.previewHtml });
  for (const channel of channels) {
    await store.ensureDelivery(org.id, date, channel, ctx.clock.now());
    const claimed = await store.claimDelivery(org.id, date, channel, holder, ctx.clock.now(), 5 * 60_000);
    try {
      await sendReport(ctx, rendered, channel);
    } catch (error) {
      if (claimed) await store.markFailed(org.id, date, channel, holder, (error as Error).message, ctx.clock.now(), ctx.clock.now());
      throw error;
    }
    if (claimed) await store.markDelivered(org.id, date, channel, holder, ctx.clock.now());
    results.push({ channel, result: claimed ? 'delivered' : 'delivered again (already in the ledger)' });
  }
  return results;
}

export function registerReportCommands(program: Command): void {
  program
    .command('report')
    .description('build the daily report of a local date: prints its JSON, writes its HTML, or sends it now')
    .requiredOption('--date <YYYY-MM-DD>', 'the local date to report')
    .option('--org <id>', 'organization (default: every organization)')
    .option('--html <file>', 'write the HTML e-mail to this file (one org)')
    .option('--text', 'print the plain-text part instead of JSON')
    .option('--send', 'deliver now to the configured recipients and webhook')
    .action(async (options: { date: string; org?: string; html?: string; text?: boolean; send?: boolean }) => {
      if (!DATE.test(options.date)) throw new UsageError(`--date: expected YYYY-MM-DD, got "${options.date}"`);
      await withContext(async (ctx) => {
        const orgIds = options.org !== undefined ? [options.org] : (await ctx.orgStore.listOrgs()).map((org) => org.id);
        if (options.html !== undefined && orgIds.length !== 1) throw new UsageError('--html needs exactly one organization (--org)');
        const out: unknown[] = [];
        for (const orgId of orgIds) {
          const rendered = await buildReport(ctx, { orgId, date: options.date });
          if (options.html !== undefined) writeFileSync(options.html, rendered.previewHtml);
          if (options.send) out.push({ org: orgId, date: rendered.report.date, deliveries: await sendNow(ctx, rendered) });
          else if (options.text) process.stdout.write(rendered.text);
          else if (options.html === undefined) out.push(rendered.report);
        }
        if (out.length > 0) printJson(orgIds.length === 1 && options.org !== undefined ? out[0] : out);
      });
    });

  program
    .command('report-settings')
    .description('set the daily report recipients and webhook of an organization')
    .requiredOption('--org <id>', 'organization')
    .option('--recipients <list>', 'comma-separated e-mail addresses ("" for none)')
    .option('--webhook <url>', 'webhook URL ("none" removes it)')
    .action(async (options: { org: string; recipients?: string; webhook?: string }) => {
      const recipients = options.recipients === undefined ? undefined : options.recipients.split(',').map((s) => s.trim()).filter(Boolean);
      const webhook = options.webhook === undefined ? undefined : options.webhook === 'none' ? null : options.webhook;
      const settings = await withContext((ctx) => updateReportSettings(ctx, options.org, { recipients, webhook_url: webhook }));
      printJson({ org: settings.orgId, recipients: settings.recipients, webhook_url: settings.webhookUrl });
    });
}
