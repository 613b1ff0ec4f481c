import { PartialBuilder } from './src/domain/rollup-math.ts';
const gc = (globalThis as any).gc;
function mem(label: string) { gc(); const m = process.memoryUsage(); console.log(label, 'heap', Math.round(m.heapUsed/1e6), 'ext', Math.round(m.external/1e6), 'ab', Math.round(m.arrayBuffers/1e6), 'rss', Math.round(m.rss/1e6)); }
mem('start');
const keep: any[] = [];
let t0 = performance.now();
for (let i = 0; i < 200000; i++) { const b = new PartialBuilder('counter'); b.add(1, 0); keep.push(b); }
console.log('200k counter builders', performance.now() - t0); mem('counters');
t0 = performance.now();
const rows: any[] = [];
for (const b of keep) rows.push({ a: 1, b: 'x', ...b.build() });
console.log('200k builds', performance.now() - t0); mem('rows');
t0 = performance.now();
for (let i = 0; i < 100000; i++) { const b = new PartialBuilder('distribution'); b.add(i, 0); b.add(i * 3, 0); rows.push(b.build()); }
console.log('100k dist builds', performance.now() - t0); mem('dist rows');
