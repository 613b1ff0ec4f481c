/**
 * An unsigned LEB128 varint of `value` (a safe non-negative integer) written into `out` at `at`;
 * returns the position after it. Division, not bit shifts: values may exceed 32 bits.
 */
export function putVarint(out: Uint8Array, at: number, value: number): number {
  let rest = value;
  while (rest >= 0x80) {
    out[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[at++] = rest;
  return at;
}
