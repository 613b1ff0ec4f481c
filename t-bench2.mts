import { aggregateEvents, compileMetrics, type EvaluableEvent } from './src/domain/metrics/evaluate.ts';
import { BUILTIN_METRICS } from './src/domain/metrics/catalog.ts';
import { floorBucket } from './src/domain/time-buckets.ts';
let s = 1; const r = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
const p = <T,>(a: T[]) => a[Math.floor(r() * a.length)]!;
const start = Date.parse('2026-03-01T00:00:00Z'); const N = Number(process.argv[2] ?? 200000);
const events: EvaluableEvent[] = [];
for (let i = 0; i < N; i++) {
  const ts = start + Math.floor(i * (30 * 86400000 / N));
  const k = r(); let type: string; let attrs: Record<string, any>;
  if (k < 0.3) { type = 'llm_call'; attrs = { usage_type: p(['llm','llm','embedding']), reason: p(['extraction','challenge','summarize']), model: p(['gpt-4o','claude-3','gemini']), provider: p(['openai','anthropic']), workflow_id: 'wf' + Math.floor(r()*20), user_id: 'u'+Math.floor(r()*50), cost_usd: r()/100, latency_ms: Math.exp(6 + r()), total_tokens: Math.floor(r()*3000) }; }
  else if (k < 0.6) { type = 'api_request'; attrs = { status_code: p([200,200,200,404,500]), model: p(['gpt-4o','claude-3']), country: p(['US','DE','CH','IN']), endpoint: p(['/v1/a','/v1/b','/v1/c']), latency_ms: Math.exp(4 + r()*2), cost_usd: r()/1000 }; }
  else if (k < 0.7) { type = 'trace'; attrs = { operation_type: p(['query','ingest']), user_id: 'u'+Math.floor(r()*50), duration_ms: r()*1000, tokens: 100, cost_usd: 0.001 }; }
  else if (k < 0.8) { type = 'page_usage'; attrs = { pages: 3, failed_pages: r() < 0.1 ? 1 : 0 }; }
  else if (k < 0.9) { type = 'workflow_execution'; attrs = { pipeline_type: p(['api','etl','task']), workflow_id: 'wf' + Math.floor(r()*20) }; }
  else { type = 'chat_message'; attrs = { kb_id: 'kb'+Math.floor(r()*5), user_id: 'u'+Math.floor(r()*50), response_time_ms: r()*3000 }; }
  events.push({ type, ts, project: 'default', tag: '', attrs, orgId: p(['a','b','c']) });
}
const compiled = compileMetrics(BUILTIN_METRICS); (globalThis as any).gc();
const c0 = process.cpuUsage(); const t0 = performance.now();
const rows = aggregateEvents(events, compiled, (ts) => floorBucket(ts, 'hour', 'UTC'));
const c1 = process.cpuUsage(c0); (globalThis as any).gc(); const m = process.memoryUsage(); console.log(N, "rows", rows.length, "wall ms", Math.round(performance.now() - t0), "cpu ms", Math.round((c1.user + c1.system) / 1000), "heap MB after gc", Math.round(m.heapUsed / 1e6), "rss", Math.round(m.rss / 1e6));
{
  (globalThis as any).gc();
  const { forEachAggregatedRow } = await import('./src/domain/metrics/evaluate.ts');
  const c0 = process.cpuUsage(); let n = 0;
  forEachAggregatedRow(events, compiled, (ts) => floorBucket(ts, 'hour', 'UTC'), 'hour', () => { n++; });
  const c1 = process.cpuUsage(c0);
  console.log('streaming (rows dropped): rows', n, 'cpu ms', Math.round((c1.user + c1.system) / 1000));
  const c2 = process.cpuUsage(); let m = 0;
  for (const e of events) compiled.forEachMatch(e, () => { m++; });
  const c3 = process.cpuUsage(c2);
  console.log('evaluation only: matches', m, 'cpu ms', Math.round((c3.user + c3.system) / 1000));
}
