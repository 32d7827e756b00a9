/** Words the overlay shows for a surface's decision, shared by the badges and the "Not on this page" list. */
import { isAnyOfRequirement, type SurfaceView } from "../messages.js";

/** Missing keys without the surface's own system prefix: `cxengage/CONTACTS_UPDATE` → `CONTACTS_UPDATE`. */
export function missingText(surface: SurfaceView): string {
  const prefix = `${surface.system}/`;
  return surface.missing.map((k) => (k.startsWith(prefix) ? k.slice(prefix.length) : k)).join(", ");
}

/** Whether any one of the missing keys would do (the requirement is "a or b or c"). */
export function isAnyOf(surface: SurfaceView): boolean {
  return isAnyOfRequirement(surface.requirement);
}

/** "denied — not granted" / "allowed". */
export function decisionText(surface: SurfaceView): string {
  if (surface.allowed) return "allowed";
  return surface.reason ? `denied — ${surface.reason}` : "denied";
}

/** "license calabrio-one/analytics (23 of 25 seats free) or …". */
export function licenseText(surface: SurfaceView): string {
  const each = surface.licenses.map(
    (l) => `${l.licenseId} (${Math.max(0, l.seats - l.used)} of ${l.seats} seats free)`,
  );
  return `needs license ${each.join(" or ")}`;
}

/** The full explanation, one fact a line, for a badge's tooltip. */
export function explainSurface(surface: SurfaceView): string {
  const lines = [
    `${surface.label} (${surface.surfaceId})`,
    `Requires: ${surface.requirement || "nothing"}`,
    `Decision: ${decisionText(surface)}`,
  ];
  if (!surface.allowed && surface.missing.length > 0)
    lines.push(`Missing${isAnyOf(surface) ? " (one of)" : ""}: ${missingText(surface)}`);
  if (surface.licenses.length > 0) lines.push(licenseText(surface));
  const fix = surface.fixes[0]?.text;
  if (fix) lines.push(`Smallest fix: ${fix}`);
  else if (surface.summary) lines.push(`${surface.allowed ? "Why" : "Fix"}: ${surface.summary}`);
  return lines.join("\n");
}
