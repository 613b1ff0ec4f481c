/** Rounding as Python's built-in `round` does it, for answers that must match a Python original. */

/**
 * Python's `round(x, digits)` on a float: the nearest multiple of 10^-digits to the exact
 * binary value, ties (only possible when the double is exactly halfway) to the even digit.
 * `toFixed` rounds exact ties away from zero, so ties are settled here first.
 */
export function roundLikePython(value: number, digits = 4): number {
  if (!Number.isFinite(value) || Math.abs(value) >= 1e21) return value;
  const exact = Math.abs(value).toFixed(Math.min(100, digits + 60));
  const cut = exact.indexOf('.') + 1 + digits;
  const isTie = /^50*$/.test(exact.slice(cut));
  const keptDigitIsEven = Number(exact[cut - 1]) % 2 === 0;
  const rounded = isTie && keptDigitIsEven ? Math.sign(value) * Number(exact.slice(0, cut)) : Number(value.toFixed(digits));
  return rounded === 0 ? 0 : rounded;
}
