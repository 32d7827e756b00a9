/**
 * Checks of admin request fields, each failing with INVALID_ARGUMENT naming the field, so a bad
 * request is refused before anything is written.
 */
import { StoreError } from "../store/store-error.js";

/** The longest id or name the store accepts, in characters. */
export const MAX_TEXT_LENGTH = 200;

/** Validates an id: non-empty, at most 200 characters, no whitespace or control characters. */
export function checkId(field: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new StoreError("INVALID_ARGUMENT", `${field} is required`, { field });
  }
  if (value.length > MAX_TEXT_LENGTH) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `${field} is ${value.length} characters long; at most ${MAX_TEXT_LENGTH}`,
      {
        field,
      },
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `${field} '${value}' contains whitespace or control characters`,
      { field },
    );
  }
  return value;
}

/** Validates a name shown to people: trimmed, non-empty, at most 200 characters; returns it trimmed. */
export function checkName(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim().length === 0) {
    throw new StoreError("INVALID_ARGUMENT", `${field} must not be empty`, { field });
  }
  const name = value.trim();
  if (name.length > MAX_TEXT_LENGTH) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `${field} is ${name.length} characters long; at most ${MAX_TEXT_LENGTH}`,
      {
        field,
      },
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: names are printed in UIs and logs.
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new StoreError("INVALID_ARGUMENT", `${field} contains control characters`, { field });
  }
  return name;
}

/** Validates a seat count: a non-negative integer. */
export function checkSeats(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `${field} must be a non-negative integer, got ${String(value)}`,
      { field },
    );
  }
  return value;
}

/** Validates a list of ids (each checked, duplicates dropped); `allowEmpty` false requires one at least. */
export function checkIdList(field: string, values: unknown, allowEmpty: boolean): string[] {
  if (!Array.isArray(values)) throw new StoreError("INVALID_ARGUMENT", `${field} must be a list`, { field });
  if (!allowEmpty && values.length === 0) {
    throw new StoreError("INVALID_ARGUMENT", `${field} must name at least one`, { field });
  }
  return [...new Set(values.map((v, i) => checkId(`${field}[${i}]`, v)))];
}
