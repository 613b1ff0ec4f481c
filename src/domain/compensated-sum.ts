/**
 * A running sum with Neumaier's compensation: the rounding error of each addition is carried
 * along and added back at the end, so a sum of many decimal amounts (8-decimal LLM costs)
 * stays within one unit of the last place of the exact decimal total. A plain `+=` over a few
 * hundred costs drifts into the 15th significant digit (4.45369980999999 for 4.45369981),
 * where the answers' 15-digit noise filter can no longer hide it. Pure.
 */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(value: number): void {
    const next = this.sum + value;
    this.compensation += Math.abs(this.sum) >= Math.abs(value) ? this.sum - next + value : value - next + this.sum;
    this.sum = next;
  }

  get value(): number {
    return this.sum + this.compensation;
  }
}
