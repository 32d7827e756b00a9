/**
 * The shape phase's field checks: each reads one field of an entry, reports what is wrong through
 * `fail` in the entry's words (`permission 'x': 'name' must be ...`) and returns the value, or
 * `null` when it is unusable.
 */
import { closestKey } from "../closest-key.js";
import { REQUIREMENT_KEY_PATTERN, REQUIREMENT_KEYWORDS } from "../requirement.js";
import type { Assumption, RequirementExpr } from "../schema.js";
import { describeValue } from "./issues.js";

/** Reports one problem of the entry being checked (its local id, when it has one). */
export type Fail = (id: string | undefined, message: string) => void;

/** A JSON object (not `null`, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Wraps `fail` to count what this entry reported, so a malformed entry can be dropped. */
export function failures(fail: Fail): { fail: Fail; count: () => number } {
  let n = 0;
  return {
    fail: (id, message) => {
      n++;
      fail(id, message);
    },
    count: () => n,
  };
}

/** Reports each field not in `allowed`, with the nearest allowed name when one is close. */
export function unknownFields(
  e: Record<string, unknown>,
  allowed: readonly string[],
  label: string,
  id: string | undefined,
  fail: Fail,
): void {
  for (const field of Object.keys(e)) {
    if (!allowed.includes(field)) {
      const near = closestKey(field, allowed);
      fail(id, `${label}: unknown field '${field}'${near === null ? "" : ` (did you mean '${near}'?)`}`);
    }
  }
}

/** A string field that must hold more than spaces. */
export function requiredString(
  e: Record<string, unknown>,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): string | null {
  const value = e[field];
  if (typeof value === "string" && value.trim() !== "") return value;
  fail(id, `${label}: '${field}' must be a non-empty string, got ${describeValue(value)}`);
  return null;
}

/** A local id (category, license, role, surface): non-empty, no `/` (that would make it look qualified), no spaces. */
export function localId(
  e: Record<string, unknown>,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): string | null {
  const value = requiredString(e, field, label, id, fail);
  if (value === null) return null;
  if (value.includes("/") || /\s/.test(value)) {
    fail(id, `${label}: ${field} '${value}' must be local: no '/' and no spaces`);
    return null;
  }
  return value;
}

/** A local permission key: also limited to the characters the requirement text form can carry. */
export function permissionKey(
  value: unknown,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): string | null {
  if (typeof value !== "string" || value === "") {
    fail(id, `${label}: '${field}' must be a non-empty string, got ${describeValue(value)}`);
    return null;
  }
  if (value.includes("/") || !REQUIREMENT_KEY_PATTERN.test(value)) {
    fail(id, `${label}: ${field} '${value}' may only hold letters, digits, '_', ':', '.', '-'`);
    return null;
  }
  if (REQUIREMENT_KEYWORDS.includes(value.toLowerCase())) {
    fail(id, `${label}: ${field} '${value}' is a word the requirement text form reserves`);
    return null;
  }
  return value;
}

/** An array of non-empty strings; a repeated item is reported but kept. */
export function stringList(
  e: Record<string, unknown>,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): string[] | null {
  const value = e[field];
  if (!Array.isArray(value)) {
    fail(id, `${label}: '${field}' must be an array of strings, got ${describeValue(value)}`);
    return null;
  }
  const bad = value.findIndex((v) => typeof v !== "string" || v.trim() === "");
  if (bad >= 0) {
    fail(
      id,
      `${label}: '${field}' item #${bad + 1} must be a non-empty string, got ${describeValue(value[bad])}`,
    );
    return null;
  }
  const list = value as string[];
  const twice = list.filter((v, i) => list.indexOf(v) !== i);
  if (twice.length > 0) fail(id, `${label}: '${field}' lists '${twice[0]}' more than once`);
  return list;
}

/** A `true` / `false` field. */
export function boolean(
  e: Record<string, unknown>,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): boolean | null {
  const value = e[field];
  if (typeof value === "boolean") return value;
  fail(id, `${label}: '${field}' must be true or false, got ${describeValue(value)}`);
  return null;
}

/** An enum field; with `nullable`, `null` is allowed too. Returns `undefined` when invalid (`null` is a value). */
export function oneOf<T extends string>(
  e: Record<string, unknown>,
  field: string,
  values: readonly T[],
  nullable: true,
  label: string,
  id: string | undefined,
  fail: Fail,
): T | null | undefined;
export function oneOf<T extends string>(
  e: Record<string, unknown>,
  field: string,
  values: readonly T[],
  nullable: false,
  label: string,
  id: string | undefined,
  fail: Fail,
): T | null;
export function oneOf<T extends string>(
  e: Record<string, unknown>,
  field: string,
  values: readonly T[],
  nullable: boolean,
  label: string,
  id: string | undefined,
  fail: Fail,
): T | null | undefined {
  const value = e[field];
  if (nullable && value === null) return null;
  if (typeof value === "string" && (values as readonly string[]).includes(value)) return value as T;
  const allowed = values.map((v) => `'${v}'`).join(", ") + (nullable ? " or null" : "");
  fail(id, `${label}: '${field}' must be one of ${allowed}, got ${describeValue(value)}`);
  return nullable ? undefined : null;
}

/** Checks the shape of a requirement expression: keys, or non-empty `{all}` / `{any}` groups. */
export function requirement(
  value: unknown,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): RequirementExpr | null {
  const walk = (v: unknown, path: string): RequirementExpr | null => {
    if (typeof v === "string") {
      if (v !== "" && REQUIREMENT_KEY_PATTERN.test(v)) return v;
      fail(id, `${label}: ${path}: '${v}' is not a permission key`);
      return null;
    }
    if (isRecord(v)) {
      const keys = Object.keys(v);
      const kind = keys[0];
      if (keys.length === 1 && (kind === "all" || kind === "any")) {
        const items = v[kind];
        if (!Array.isArray(items)) {
          fail(id, `${label}: ${path}: '${kind}' must be an array, got ${describeValue(items)}`);
          return null;
        }
        if (items.length === 0) {
          fail(id, `${label}: ${path}: empty '${kind}' group; name at least one permission`);
          return null;
        }
        const checked = items.map((item, i) => walk(item, `${path}.${kind}[${i}]`));
        if (checked.some((c) => c === null)) return null;
        const list = checked as RequirementExpr[];
        return kind === "all" ? { all: list } : { any: list };
      }
    }
    fail(
      id,
      `${label}: ${path}: expected a permission key, {"all": [...]} or {"any": [...]}, got ${describeValue(v)}`,
    );
    return null;
  };
  return walk(value, field);
}

/**
 * The optional `assumptions` list of an entry: objects with a non-empty `reason` and, optionally,
 * the `field` of the entry they are about (one of `fields`). Absent: an empty list.
 */
export function assumptionList(
  e: Record<string, unknown>,
  fields: readonly string[],
  label: string,
  id: string | undefined,
  fail: Fail,
): Assumption[] | null {
  const value = e.assumptions;
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    fail(id, `${label}: 'assumptions' must be an array, got ${describeValue(value)}`);
    return null;
  }
  const out: Assumption[] = [];
  let ok = true;
  value.forEach((item: unknown, index) => {
    const at = `${label}: assumptions #${index + 1}`;
    if (!isRecord(item)) {
      fail(id, `${at}: expected an object with a 'reason', got ${describeValue(item)}`);
      ok = false;
      return;
    }
    const f = failures(fail);
    unknownFields(item, ["field", "reason"], at, id, f.fail);
    const reason = requiredString(item, "reason", at, id, f.fail);
    const field = item.field;
    if (field !== undefined && (typeof field !== "string" || !fields.includes(field))) {
      const near = typeof field === "string" ? closestKey(field, fields) : null;
      f.fail(
        id,
        `${at}: 'field' must name a field of the entry (${fields.join(", ")}), got ${describeValue(field)}${near === null ? "" : ` (did you mean '${near}'?)`}`,
      );
    }
    if (f.count() > 0 || reason === null) {
      ok = false;
      return;
    }
    out.push(field === undefined ? { reason } : { field: field as string, reason });
  });
  return ok ? out : null;
}
