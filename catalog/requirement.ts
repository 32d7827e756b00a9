/**
 * Utilities over requirement expressions (`RequirementExpr` in `schema.ts`): qualifying keys,
 * evaluating against a set of held permissions, explaining what is missing, and a text form
 * (`A and (B or C)`) that the API shows and people can write back.
 *
 * Semantics: a key holds when `has(key)`; `{all: [...]}` holds when every item holds (so an empty
 * `all` always holds); `{any: [...]}` holds when one item holds (so an empty `any` never holds).
 * The catalog loader rejects empty groups, so they only appear in hand-built expressions.
 */
import type { RequirementExpr } from "./schema.js";

/** Characters a permission key may contain, so that every key survives `formatRequirement` → `parseRequirement`. */
export const REQUIREMENT_KEY_PATTERN = /^[A-Za-z0-9_:./-]+$/;

/** Words that cannot be keys because the text form uses them as operators (compared case-insensitively). */
export const REQUIREMENT_KEYWORDS: readonly string[] = ["and", "or"];

/** Thrown by `parseRequirement` on text that is not a requirement; `position` is the 0-based offset of the problem. */
export class RequirementSyntaxError extends Error {
  override readonly name = "RequirementSyntaxError";
  /** 0-based offset into `text` where the problem is (`text.length` for "unexpected end"). */
  readonly position: number;
  /** The text that failed to parse. */
  readonly text: string;

  constructor(problem: string, text: string, position: number) {
    super(`invalid requirement "${text}": ${problem} at position ${position}`);
    this.position = position;
    this.text = text;
  }
}

/** Qualifies one key: a local key becomes `system/key`; a key already holding `/` is left as it is. */
export function qualifyKey(key: string, system: string): string {
  return key.includes("/") ? key : `${system}/${key}`;
}

/** Qualifies every key of an expression (local `view-contacts` → `system/view-contacts`), keeping its shape. */
export function qualifyRequirement(expr: RequirementExpr, system: string): RequirementExpr {
  if (typeof expr === "string") return qualifyKey(expr, system);
  if ("all" in expr) return { all: expr.all.map((e) => qualifyRequirement(e, system)) };
  return { any: expr.any.map((e) => qualifyRequirement(e, system)) };
}

/** Every key an expression mentions, each once, in order of first appearance. */
export function requirementKeys(expr: RequirementExpr): string[] {
  const out = new Set<string>();
  const walk = (e: RequirementExpr): void => {
    if (typeof e === "string") out.add(e);
    else for (const item of "all" in e ? e.all : e.any) walk(item);
  };
  walk(expr);
  return [...out];
}

/** Whether the expression holds for a holder of exactly the keys for which `has` returns true. */
export function evaluateRequirement(expr: RequirementExpr, has: (key: string) => boolean): boolean {
  if (typeof expr === "string") return has(expr);
  if ("all" in expr) return expr.all.every((e) => evaluateRequirement(e, has));
  return expr.any.some((e) => evaluateRequirement(e, has));
}

/**
 * The part of the expression that does not hold, pruned to its unmet branches (held keys and
 * satisfied groups removed), normalized; `null` when the expression holds. An unmet any-of keeps
 * every alternative, since any one of them would do: format it to explain a denial
 * ("needs view-contacts or view-scored-contacts").
 */
export function unmetRequirement(
  expr: RequirementExpr,
  has: (key: string) => boolean,
): RequirementExpr | null {
  const prune = (e: RequirementExpr): RequirementExpr | null => {
    if (typeof e === "string") return has(e) ? null : e;
    if ("all" in e) {
      const unmet = e.all.map(prune).filter((x): x is RequirementExpr => x !== null);
      return unmet.length === 0 ? null : { all: unmet };
    }
    if (e.any.some((x) => evaluateRequirement(x, has))) return null;
    // An empty any-of can never be met, and there is nothing to name; report it as it is.
    return { any: e.any.map((x) => prune(x) ?? x) };
  };
  const unmet = prune(expr);
  return unmet === null ? null : normalizeRequirement(unmet);
}

/**
 * The keys that would have to be added for the expression to hold: every key of every unmet
 * leaf; for an unmet any-of, the unmet keys of every alternative (any one alternative would do,
 * so the list is what to choose from, not what to add all of). Each key once, in expression
 * order; empty when the expression holds. Use `unmetRequirement` to keep the and/or structure.
 */
export function missingForRequirement(expr: RequirementExpr, has: (key: string) => boolean): string[] {
  const unmet = unmetRequirement(expr, has);
  return unmet === null ? [] : requirementKeys(unmet);
}

/**
 * A simpler equivalent expression: nested groups of the same kind are flattened
 * (`A and (B and C)` → `A and B and C`), a group of one item becomes the item, and an item
 * repeated within a group is kept once. Empty groups stay as they are (they mean true / false).
 */
export function normalizeRequirement(expr: RequirementExpr): RequirementExpr {
  if (typeof expr === "string") return expr;
  const kind = "all" in expr ? "all" : "any";
  const items = "all" in expr ? expr.all : expr.any;
  const flat: RequirementExpr[] = [];
  const seen = new Set<string>();
  const push = (item: RequirementExpr): void => {
    const text = formatRequirement(item);
    if (seen.has(text)) return;
    seen.add(text);
    flat.push(item);
  };
  for (const item of items) {
    const n = normalizeRequirement(item);
    if (typeof n !== "string" && kind in n) {
      // Same-kind group: its items join ours. They are already normalized and flat.
      for (const inner of "all" in n ? n.all : n.any) push(inner);
    } else {
      push(n);
    }
  }
  // An empty nested group of the same kind flattens away; an empty top-level group stays empty.
  if (flat.length === 1) return flat[0]!;
  return kind === "all" ? { all: flat } : { any: flat };
}

/**
 * Text form for people and the API: `A and (B or C)`. The top level has no parentheses; every
 * nested group has them, so nobody has to know which of `and` / `or` binds tighter. A group of one
 * item prints as the item; an empty group prints as `()`.
 */
export function formatRequirement(expr: RequirementExpr): string {
  const format = (e: RequirementExpr, nested: boolean): string => {
    if (typeof e === "string") return e;
    const items = "all" in e ? e.all : e.any;
    if (items.length === 0) return "()";
    if (items.length === 1) return format(items[0]!, nested);
    const text = items.map((item) => format(item, true)).join("all" in e ? " and " : " or ");
    return nested ? `(${text})` : text;
  };
  return format(expr, false);
}

type Token =
  | { readonly kind: "key"; readonly text: string; readonly at: number }
  | { readonly kind: "and" | "or" | "(" | ")"; readonly at: number }
  | { readonly kind: "end"; readonly at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "(" || ch === ")") {
      tokens.push({ kind: ch, at: i });
      i++;
    } else if (/[A-Za-z0-9_:./-]/.test(ch)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_:./-]/.test(text[i]!)) i++;
      const word = text.slice(start, i);
      const lower = word.toLowerCase();
      if (lower === "and" || lower === "or") tokens.push({ kind: lower, at: start });
      else tokens.push({ kind: "key", text: word, at: start });
    } else {
      throw new RequirementSyntaxError(
        `unexpected character '${ch}' (keys may contain letters, digits, '_', ':', '.', '/', '-')`,
        text,
        i,
      );
    }
  }
  tokens.push({ kind: "end", at: text.length });
  return tokens;
}

function describe(token: Token): string {
  if (token.kind === "end") return "end of text";
  if (token.kind === "key") return `'${token.text}'`;
  return `'${token.kind}'`;
}

/**
 * Reads the text form back into an expression (the inverse of `formatRequirement`, up to
 * `normalizeRequirement`). `and` / `or` are case-insensitive; mixing them at one level without
 * parentheses (`A and B or C`) is rejected as ambiguous. `()` reads as an empty all-of.
 * Throws `RequirementSyntaxError` with the position of the problem.
 */
export function parseRequirement(text: string): RequirementExpr {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const fail = (problem: string, token: Token): never => {
    throw new RequirementSyntaxError(problem, text, token.at);
  };

  const parseItem = (): RequirementExpr => {
    const token = peek();
    if (token.kind === "key") {
      pos++;
      return token.text;
    }
    if (token.kind === "(") {
      pos++;
      if (peek().kind === ")") {
        pos++;
        return { all: [] };
      }
      const inner = parseGroup();
      const close = peek();
      if (close.kind !== ")")
        fail(`expected ')' to close the '(' at position ${token.at}, found ${describe(close)}`, close);
      pos++;
      return inner;
    }
    return fail(`expected a permission key or '(', found ${describe(token)}`, token);
  };

  const parseGroup = (): RequirementExpr => {
    const items = [parseItem()];
    let op: "and" | "or" | null = null;
    for (;;) {
      const token = peek();
      if (token.kind !== "and" && token.kind !== "or") break;
      if (op !== null && token.kind !== op) {
        fail(`'${token.kind}' after '${op}' is ambiguous; add parentheses`, token);
      }
      op = token.kind;
      pos++;
      items.push(parseItem());
    }
    if (op === null) return items[0]!;
    return op === "and" ? { all: items } : { any: items };
  };

  if (peek().kind === "end") fail("expected a permission key or '(', found end of text", peek());
  const expr = parseGroup();
  const rest = peek();
  if (rest.kind !== "end") {
    fail(
      rest.kind === ")" ? "unmatched ')'" : `expected 'and', 'or' or end of text, found ${describe(rest)}`,
      rest,
    );
  }
  return normalizeRequirement(expr);
}
