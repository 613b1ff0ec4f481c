import type { AppContext } from '../../app/context.ts';
import { loadOrganization } from '../../app/query/scope.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { ReportSettings } from '../ports.ts';

/** Per-organization report recipients and webhook (admin key / CLI). */

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

export interface SettingsPatch {
  recipients?: string[] | undefined;
  webhook_url?: string | null | undefined;
}

export function validateSettingsPatch(patch: SettingsPatch): void {
  patch.recipients?.forEach((address, index) => {
    if (!EMAIL.test(address.trim())) throw ValidationError.field(`recipients[${index}]`, `"${address}" is not an e-mail address`);
  });
  if (patch.recipients !== undefined && patch.recipients.length > 100) throw ValidationError.field('recipients', 'at most 100 recipients');
  if (patch.webhook_url !== undefined && patch.webhook_url !== null) {
    let url: URL;
    try {
      url = new URL(patch.webhook_url);
    } catch {
      throw ValidationError.field('webhook_url', `"${patch.webhook_url}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw ValidationError.field('webhook_url', 'must start with http:// or https://');
  }
}

export async function getReportSettings(ctx: AppContext, orgId: string): Promise<ReportSettings> {
  const org = await loadOrganization(ctx, orgId);
  return ctx.reports.store.getSettings(org.id);
}

export async function updateReportSettings(ctx: AppContext, orgId: string, patch: SettingsPatch): Promise<ReportSettings> {
  const org = await loadOrganization(ctx, orgId);
  validateSettingsPatch(patch);
  const current = await ctx.reports.store.getSettings(org.id);
  const next: ReportSettings = {
    orgId: org.id,
    recipients: patch.recipients === undefined ? current.recipients : [...new Set(patch.recipients.map((r) => r.trim()))],
    webhookUrl: patch.webhook_url === undefined ? current.webhookUrl : patch.webhook_url,
  };
  await ctx.reports.store.saveSettings(next, ctx.clock.now());
  return next;
}
