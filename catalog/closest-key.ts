/**
 * "Did you mean ...?" for unknown permission keys, license ids and the like, so an error names
 * the key the caller most likely meant ("unknown permission 'calabrio-one/view-contact'; did you
 * mean 'calabrio-one/view-contacts'?").
 */

/**
 * Optimal-string-alignment distance (Levenshtein plus swapping two adjacent characters, the
 * commonest typo), case-insensitive. Gives up and returns `limit + 1` as soon as the distance
 * must exceed `limit`, so scanning hundreds of candidates stays cheap.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  if (Math.abs(s.length - t.length) > limit) return limit + 1;
  // Three rolling rows: the transposition step looks two rows back.
  let prevPrev: number[] = [];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        d = Math.min(d, prevPrev[j - 2]! + 1);
      }
      row.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > limit) return limit + 1;
    prevPrev = prev;
    prev = row;
  }
  return prev[t.length]!;
}

/** The part after the last `/` (`calabrio-one/view-contacts` → `view-contacts`); the whole key when it has none. */
function localPart(key: string): string {
  const slash = key.lastIndexOf("/");
  return slash < 0 ? key : key.slice(slash + 1);
}

/** The part before the last `/`, or `null` for a local key. */
function systemPart(key: string): string | null {
  const slash = key.lastIndexOf("/");
  return slash < 0 ? null : key.slice(0, slash);
}

/** How far apart two keys may be and still count as "reasonably close": about a third of the length, at least 1. */
function tolerance(length: number): number {
  return Math.max(1, Math.floor(length / 3));
}

/**
 * The candidate nearest to `input` by case-insensitive edit distance, or `null` when none is
 * reasonably close (within about a third of the key's length). Qualified keys are compared by
 * their local part when both sides name the same system, and candidates of the input's own
 * system win ties and are tried first, so `cxengage/CONTACT_READ` suggests
 * `cxengage/CONTACTS_READ` over a nearer key of another system only when nothing in cxengage is
 * close. A local input (`CONTACT_READ`) is compared with each candidate's local part. Ties go to
 * the alphabetically first candidate, so the answer is stable.
 */
export function closestKey(input: string, candidates: Iterable<string>): string | null {
  const inputSystem = systemPart(input);
  const inputLocal = localPart(input);
  let best: { key: string; distance: number; sameSystem: boolean } | null = null;
  for (const candidate of candidates) {
    const candidateSystem = systemPart(candidate);
    const sameSystem = inputSystem !== null && candidateSystem === inputSystem;
    // Within one system (or for a local input) only the local parts can differ.
    const [a, b] =
      inputSystem === null || sameSystem ? [inputLocal, localPart(candidate)] : [input, candidate];
    const limit = tolerance(Math.max(a.length, b.length));
    const distance = editDistance(a, b, limit);
    if (distance > limit) continue;
    const better =
      best === null ||
      (sameSystem && !best.sameSystem) ||
      (sameSystem === best.sameSystem &&
        (distance < best.distance || (distance === best.distance && candidate < best.key)));
    if (better) best = { key: candidate, distance, sameSystem };
  }
  return best?.key ?? null;
}

/** `" (did you mean 'x'?)"` for the closest candidate, or `""` when none is close: for appending to an error message. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const key = closestKey(input, candidates);
  return key === null ? "" : ` (did you mean '${key}'?)`;
}
