#!/usr/bin/env node
/**
 * Replays what the real Unstract metrics dashboard (Zipstack/unstract:
 * frontend/src/components/metrics-dashboard/*.jsx, frontend/src/hooks/useMetricsData.js) asks
 * of its API, through the key-injecting proxy of docs/UNSTRACT.md, and checks every field
 * its components read, with the types they need. Dependency-free; run it against a deployment:
 *
 *   node deploy/unstract/replay.mjs --base http://127.0.0.1:8081 --org ORG [--require-data]
 *
 * --base is the proxy (what the browser talks to), --org the organization id in the paths,
 * --require-data also demands that cards, activity and the API-deployment table are not empty,
 * --now an ISO instant to use as the dashboard's "now" (default: the clock).
 * Prints one line per check and `N passed, N failed`; exits 1 when a check failed.
 */

const DAY = 86_400_000;
/** MetricsSummary.jsx METRIC_CONFIG: the original module's metrics; anything else is drawn as a grey card. */
const METRICS = new Set([
  'pages_processed', 'documents_processed', 'llm_calls', 'prompt_executions', 'deployed_api_requests', 'llm_usage',
  'etl_pipeline_executions', 'challenges', 'summarization_calls', 'failed_pages', 'hitl_reviews', 'hitl_completions',
]);
const ACTIVITY_TYPES = new Set(['etl', 'api', 'workflow']);
const DEPLOYMENT_TYPES = ['API', 'ETL', 'TASK', 'WF'];

function parseArgs(argv) {
  const args = { requireData: false };
  for (let i = 0; i < argv.length; i += 1) {
    const name = argv[i];
    if (name === '--require-data') args.requireData = true;
    else if (name === '--base' || name === '--org' || name === '--now') args[name.slice(2)] = argv[(i += 1)];
    else throw new Error(`unknown argument ${name}`);
  }
  if (!args.base || !args.org) throw new Error('usage: replay.mjs --base URL --org ORG [--require-data] [--now ISO]');
  return args;
}

const results = [];
function check(name, condition, detail = '') {
  results.push({ name, ok: Boolean(condition), detail });
}
const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);
const isDate = (value) => typeof value === 'string' && !Number.isNaN(new Date(value).getTime());
const isStringOrNull = (value) => value === null || typeof value === 'string';
const decimals = (value) => (String(value).split('.')[1] ?? '').length;

/** axiosPrivate.get(url): the browser sends its session cookie; a 401 would log the user out. */
async function get(base, path) {
  const response = await fetch(`${base}${path}`, { headers: { cookie: 'sessionid=replay-session; csrftoken=replay', accept: 'application/json, text/plain, */*' } });
  const text = await response.text();
  let body = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = text;
  }
  check(`${path.split('?')[0]} never answers 401 (the client would log out)`, response.status !== 401, `status ${response.status}`);
  return { status: response.status, body };
}

function checkOverview(label, answer, requireData) {
  check(`${label}: 200`, answer.status === 200, `status ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 200)}`);
  const body = answer.body ?? {};
  check(`${label}: period {start_date, end_date, days}`, isDate(body.period?.start_date) && isDate(body.period?.end_date) && Number.isInteger(body.period?.days));
  check(`${label}: totals is a list`, Array.isArray(body.totals));
  const totals = Array.isArray(body.totals) ? body.totals : [];
  const strangers = totals.filter((m) => !METRICS.has(m.metric_name)).map((m) => m.metric_name);
  check(`${label}: totals carry only the original module's metrics`, strangers.length === 0, strangers.join(', '));
  check(`${label}: totals[].total_value and total_count are numbers`, totals.every((m) => isNumber(m.total_value) && isNumber(m.total_count)));
  check(`${label}: one total per metric`, new Set(totals.map((m) => m.metric_name)).size === totals.length);
  if (requireData) check(`${label}: some card has a value above 0`, totals.some((m) => m.total_value > 0));
  check(`${label}: daily_trend is a list`, Array.isArray(body.daily_trend));
  const days = Array.isArray(body.daily_trend) ? body.daily_trend : [];
  check(`${label}: daily_trend[].date is a date the browser reads`, days.every((d) => isDate(d.date)));
  check(`${label}: daily_trend is in date order, one entry per day`, days.every((d, i) => i === 0 || new Date(days[i - 1].date) < new Date(d.date)));
  const trendStrangers = days.flatMap((d) => Object.keys(d.metrics ?? {})).filter((name) => !METRICS.has(name));
  check(`${label}: daily_trend[].metrics carry only the original module's metrics`, trendStrangers.length === 0, [...new Set(trendStrangers)].join(', '));
  check(`${label}: daily_trend[].metrics values are numbers`, days.every((d) => d.metrics && typeof d.metrics === 'object' && Object.values(d.metrics).every(isNumber)));
  return body;
}

function checkActivity(label, answer, limit, requireData) {
  check(`${label}: 200`, answer.status === 200, `status ${answer.status}`);
  const items = Array.isArray(answer.body?.activity) ? answer.body.activity : null;
  check(`${label}: activity is a list of at most ${limit}`, items !== null && items.length <= limit, `${items?.length}`);
  if (items === null) return;
  if (requireData) check(`${label}: not empty`, items.length > 0);
  check(`${label}: id is a string, unique`, items.every((a) => typeof a.id === 'string') && new Set(items.map((a) => a.id)).size === items.length);
  check(`${label}: execution_id is a string (or null)`, items.every((a) => isStringOrNull(a.execution_id)));
  check(`${label}: type is etl, api or workflow`, items.every((a) => ACTIVITY_TYPES.has(a.type)));
  check(`${label}: file_name and status are strings`, items.every((a) => typeof a.file_name === 'string' && typeof a.status === 'string'));
  check(`${label}: workflow_name is a string or null`, items.every((a) => isStringOrNull(a.workflow_name)));
  check(`${label}: created_at is a date, newest first`, items.every((a, i) => isDate(a.created_at) && (i === 0 || new Date(items[i - 1].created_at) >= new Date(a.created_at))));
  check(`${label}: execution_time is a number or null`, items.every((a) => a.execution_time === null || isNumber(a.execution_time)));
  check(`${label}: total_tokens and cost are numbers, cost to 4 decimals`, items.every((a) => isNumber(a.total_tokens) && isNumber(a.cost) && decimals(a.cost) <= 4));
}

function checkUsage(label, answer, type, truncated, requireData) {
  check(`${label}: 200`, answer.status === 200, `status ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 200)}`);
  const body = answer.body ?? {};
  check(`${label}: deployment_type echoed`, body.deployment_type === type, `${body.deployment_type}`);
  check(`${label}: range_truncated is ${truncated}`, body.range_truncated === truncated, `${body.range_truncated}`);
  check(`${label}: start_date and end_date are dates`, isDate(body.start_date) && isDate(body.end_date));
  if (truncated) check(`${label}: the range was cut to 30 days`, Math.abs(new Date(body.end_date) - new Date(body.start_date) - 30 * DAY) < 1000);
  const rows = Array.isArray(body.deployments) ? body.deployments : null;
  check(`${label}: deployments is a list`, rows !== null);
  if (rows === null) return;
  if (requireData && type === 'API') check(`${label}: not empty`, rows.length > 0);
  check(`${label}: deployment_id is a unique string (the table's rowKey)`, rows.every((r) => typeof r.deployment_id === 'string') && new Set(rows.map((r) => r.deployment_id)).size === rows.length);
  check(`${label}: deployment_name is a string`, rows.every((r) => typeof r.deployment_name === 'string'));
  const counts = ['total_tokens', 'call_count', 'execution_count', 'completed_executions', 'failed_executions', 'total_pages_processed'];
  check(`${label}: ${counts.join(', ')} are numbers`, rows.every((r) => counts.every((field) => isNumber(r[field]))));
  check(`${label}: completed + failed ≤ executions`, rows.every((r) => r.completed_executions + r.failed_executions <= r.execution_count));
  check(`${label}: total_cost is a number to 4 decimals (rendered with toFixed(4))`, rows.every((r) => isNumber(r.total_cost) && decimals(r.total_cost) <= 4));
  check(`${label}: last_execution_at is a date string or null`, rows.every((r) => r.last_execution_at === null || isDate(r.last_execution_at)));
  check(`${label}: largest token use first`, rows.every((r, i) => i === 0 || rows[i - 1].total_tokens >= r.total_tokens));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const base = `${args.base.replace(/\/$/, '')}/api/v1/unstract/${encodeURIComponent(args.org)}`;
  const clock = args.now ? Date.parse(args.now) : Date.now();
  // MetricsDashboard.jsx: stableNow = dayjs().startOf("minute"); the picker's default is the last 30 days.
  const now = Math.floor(clock / 60_000) * 60_000;
  const iso = (ts) => new Date(ts).toISOString();
  const range = (start, end) => new URLSearchParams({ start_date: iso(start), end_date: iso(end) });

  // On mount: useMetricsOverview twice (picker range and the charts' fixed 30 days, the same
  // values by default), useRecentActivity(5), useSubscriptionUsage.
  const thirty = range(now - 30 * DAY, now);
  checkOverview('overview (cards)', await get(base, `/metrics/overview/?${thirty}`), args.requireData);
  const charts = checkOverview('overview (charts)', await get(base, `/metrics/overview/?${thirty}`), args.requireData);
  if (args.requireData) check('overview (charts): daily_trend has days', (charts.daily_trend ?? []).length > 0);
  checkActivity('recent-activity?limit=5', await get(base, '/metrics/recent-activity/?limit=5'), 5, args.requireData);
  for (const path of ['/subscription/usage/', '/subscription/usage/daily/']) {
    const answer = await get(base, path);
    // useSubscriptionUsage: a 404 is "no subscription data" (OSS); any other error is shown.
    check(`${path}: 404 (OSS) or 200`, answer.status === 404 || answer.status === 200, `status ${answer.status}`);
  }
  // The picker's presets (not minute-aligned) and a custom range past a year: no cap on overview.
  const clockNow = clock;
  checkOverview('overview, Last 7 Days preset', await get(base, `/metrics/overview/?${range(clockNow - 7 * DAY, clockNow)}`), false);
  checkOverview('overview, Last 90 Days preset', await get(base, `/metrics/overview/?${range(clockNow - 90 * DAY, clockNow)}`), false);
  const long = checkOverview('overview, custom 800 days', await get(base, `/metrics/overview/?${range(now - 800 * DAY, now)}`), false);
  check('overview, custom 800 days: period.days is 800', long.period?.days === 800, `${long.period?.days}`);

  // "Usage by Deployment" tab: one request per deployment-type tab, then the refresh button.
  for (const type of DEPLOYMENT_TYPES) {
    const params = new URLSearchParams({ start_date: iso(now - 30 * DAY), end_date: iso(now), deployment_type: type });
    checkUsage(`workflow-token-usage ${type}`, await get(base, `/metrics/workflow-token-usage/?${params}`), type, false, args.requireData);
  }
  const refreshed = new URLSearchParams({ start_date: iso(now - 30 * DAY), end_date: iso(now), deployment_type: 'API', refresh: 'true' });
  checkUsage('workflow-token-usage API, refresh=true', await get(base, `/metrics/workflow-token-usage/?${refreshed}`), 'API', false, false);
  // The 90-day preset chosen on the overview tab, then the usage tab opened: cut to 30 days.
  const ninety = new URLSearchParams({ start_date: iso(clockNow - 90 * DAY), end_date: iso(clockNow), deployment_type: 'API' });
  checkUsage('workflow-token-usage API over 90 days', await get(base, `/metrics/workflow-token-usage/?${ninety}`), 'API', true, false);

  const failed = results.filter((r) => !r.ok);
  for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.ok || r.detail === '' ? '' : ` — ${r.detail}`}`);
  console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(`replay: ${error.message}`);
  process.exitCode = 2;
});
