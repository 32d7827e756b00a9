/**
 * The defaults of a tenant's own system (PutSystem): only the system's `id` and `name` and each
 * permission's `key` and `name` are required; every other field a vendor data file must spell
 * out takes the value today's files imply (no licenses, no requirement, active, not mutual, no
 * scope, no surfaces, no default roles). Filled in before the loader's shape check runs, so
 * everything else is validated by the same phases with the same messages.
 */
import { isRecord } from "./field-checks.js";

/** The category a permission without one is filed under (created when the file does not define it). */
export const DEFAULT_CATEGORY = Object.freeze({ id: "general", name: "General" });

/** Permission fields with their defaults; `summary` defaults to the permission's name. */
const PERMISSION_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  category: DEFAULT_CATEGORY.id,
  pages: [],
  licenses: [],
  requires: null,
  implies: [],
  status: "active",
  mutual: false,
  scope: null,
});

const SYSTEM_LIST_FIELDS = ["categories", "licenses", "defaultRoles", "permissions", "surfaces"];

/** Default-role fields with their defaults. */
const ROLE_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  required: [],
  licenses: [],
  template: false,
});

/**
 * A copy of `data` with the optional fields filled in. Anything that is not the expected shape
 * (not an object, a list that is not an array) is left as it is for the shape check to report.
 */
export function withCustomDefaults(data: unknown): unknown {
  if (!isRecord(data)) return data;
  const out: Record<string, unknown> = { ...data };
  for (const field of SYSTEM_LIST_FIELDS) if (out[field] === undefined) out[field] = [];
  let needsDefaultCategory = false;
  if (Array.isArray(out.permissions)) {
    out.permissions = out.permissions.map((p: unknown) => {
      if (!isRecord(p)) return p;
      const filled: Record<string, unknown> = { ...p };
      for (const [field, value] of Object.entries(PERMISSION_DEFAULTS)) {
        if (filled[field] === undefined) filled[field] = Array.isArray(value) ? [] : value;
      }
      if (filled.summary === undefined) {
        // A missing name is reported once, on `name`: the summary falls back to the key then.
        filled.summary = typeof p.name === "string" && p.name.trim() !== "" ? p.name : p.key;
      }
      if (filled.category === DEFAULT_CATEGORY.id) needsDefaultCategory = true;
      return filled;
    });
  }
  if (Array.isArray(out.defaultRoles)) {
    out.defaultRoles = out.defaultRoles.map((r: unknown) => {
      if (!isRecord(r)) return r;
      const filled: Record<string, unknown> = { ...r };
      for (const [field, value] of Object.entries(ROLE_DEFAULTS)) {
        if (filled[field] === undefined) filled[field] = Array.isArray(value) ? [] : value;
      }
      if (filled.grants === undefined) filled.grants = [];
      return filled;
    });
  }
  if (Array.isArray(out.surfaces)) {
    const systemId = typeof data.id === "string" ? data.id : "";
    out.surfaces = out.surfaces.map((x: unknown) => {
      if (!isRecord(x)) return x;
      const filled: Record<string, unknown> = { ...x };
      if (filled.location === undefined) filled.location = x.label;
      // The attribute the extension looks for first: a page can mark the element itself.
      if (filled.selector === undefined && typeof x.id === "string") {
        filled.selector = `[data-rolecall-surface="${systemId}/${x.id}"]`;
      }
      return filled;
    });
  }
  if (
    needsDefaultCategory &&
    Array.isArray(out.categories) &&
    !out.categories.some((c: unknown) => isRecord(c) && c.id === DEFAULT_CATEGORY.id)
  ) {
    out.categories = [...out.categories, { ...DEFAULT_CATEGORY }];
  }
  return out;
}
