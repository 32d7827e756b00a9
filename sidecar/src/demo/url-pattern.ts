/**
 * App URL patterns (`/cxengage/agent-desktop*`): a path relative to the app's base URL where `*`
 * matches any run of characters. Shared by the demo pages and the demo's app registration so the
 * two can never disagree about which surfaces belong to a path.
 */

/** Whether `path` (relative to the app's base URL, no query or fragment) matches `pattern`. */
export function matchesUrlPattern(pattern: string, path: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === path;
  const first = parts[0] ?? "";
  const last = parts[parts.length - 1] ?? "";
  if (!path.startsWith(first) || path.length < first.length + last.length) return false;
  let at = first.length;
  for (const middle of parts.slice(1, -1)) {
    const found = path.indexOf(middle, at);
    if (found === -1) return false;
    at = found + middle.length;
  }
  return path.length - last.length >= at && path.endsWith(last);
}

/** The concrete path a person opens for a pattern: the pattern with its wildcards removed. */
export function pathForUrlPattern(pattern: string): string {
  return pattern.replace(/\*+$/, "").replace(/\*/g, "");
}
