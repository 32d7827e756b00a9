/**
 * Fixed-width bitsets over dense indices, stored as `Uint32Array` words. Plain functions (not a
 * class) so the hot path reads a word and masks a bit with no indirection or allocation.
 */

/** Words needed for `bits` bits. */
export function wordsFor(bits: number): number {
  return (bits + 31) >>> 5;
}

/** Whether bit `i` is set in `set` (words starting at `offset`). */
export function hasBit(set: Uint32Array, i: number, offset = 0): boolean {
  return ((set[offset + (i >>> 5)]! >>> (i & 31)) & 1) === 1;
}

/** Sets bit `i`. */
export function setBit(set: Uint32Array, i: number, offset = 0): void {
  set[offset + (i >>> 5)]! |= 1 << (i & 31);
}

/** `target[tOff..tOff+words) |= source[sOff..sOff+words)`. */
export function orInto(
  target: Uint32Array,
  tOff: number,
  source: Uint32Array,
  sOff: number,
  words: number,
): void {
  for (let w = 0; w < words; w++) target[tOff + w]! |= source[sOff + w]!;
}
