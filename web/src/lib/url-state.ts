import type { Preset } from './time.ts';

/**
 * The whole view in the address bar, so it can be bookmarked, shared and survives a reload:
 * `?org=acme&range=custom&from=2026-11-01&to=2026-11-07&tz=Asia/Kolkata&project=invoices&auto=1&all=1`.
 * The key never goes into the URL.
 */
export interface UrlView {
  org?: string;
  preset?: Preset;
  from?: string;
  to?: string;
  tz?: string;
  project?: string;
  autoRefresh?: boolean;
  /** Metrics without data in the range shown too. */
  showAll?: boolean;
}

const PRESET_IDS: readonly Preset[] = ['24h', '7d', '30d', '90d', 'custom'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function readViewFromUrl(search: string): UrlView {
  const params = new URLSearchParams(search);
  const view: UrlView = {};
  const org = params.get('org');
  if (org) view.org = org;
  const range = params.get('range');
  if (range && (PRESET_IDS as readonly string[]).includes(range)) view.preset = range as Preset;
  const from = params.get('from');
  const to = params.get('to');
  if (from && DATE.test(from)) view.from = from;
  if (to && DATE.test(to)) view.to = to;
  const tz = params.get('tz');
  if (tz) view.tz = tz;
  const project = params.get('project');
  if (project) view.project = project;
  if (params.get('auto') === '1') view.autoRefresh = true;
  if (params.get('all') === '1') view.showAll = true;
  return view;
}

export function viewToSearch(view: UrlView): string {
  const params = new URLSearchParams();
  if (view.org) params.set('org', view.org);
  if (view.preset && view.preset !== '7d') params.set('range', view.preset);
  if (view.preset === 'custom' && view.from && view.to) {
    params.set('from', view.from);
    params.set('to', view.to);
  }
  if (view.tz) params.set('tz', view.tz);
  if (view.project) params.set('project', view.project);
  if (view.autoRefresh) params.set('auto', '1');
  if (view.showAll) params.set('all', '1');
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Replaces the address (no history entry per click) when the view changed. */
export function writeViewToUrl(view: UrlView): void {
  const search = viewToSearch(view);
  if (search !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
}
