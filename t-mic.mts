import { PartialBuilder } from './src/domain/rollup-math.ts';
class Plain { count = 0; sum = 0; min = Infinity; max = -Infinity; lastValue: number | null = null; lastTs: number | null = null; buffered: number[] = []; sketch: any = null; d: boolean; g: boolean; constructor(k: string) { this.d = k === 'distribution'; this.g = k === 'gauge'; } add(v: number) { this.count++; this.sum += v; if (v < this.min) this.min = v; if (v > this.max) this.max = v; } }
for (let round = 0; round < 3; round++) {
let t0 = performance.now(); const keep: any[] = [];
for (let i = 0; i < 200000; i++) { const b = new PartialBuilder('counter'); b.add(1, 0); keep.push(b); }
const t1 = performance.now(); const keep2: any[] = [];
for (let i = 0; i < 200000; i++) { const b = new Plain('counter'); b.add(1); keep2.push(b); }
console.log('PartialBuilder', Math.round(t1 - t0), 'plain', Math.round(performance.now() - t1));
}
