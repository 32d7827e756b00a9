/**
 * Requirement expressions compiled to a flat `Int32Array` program, so the fixpoint and every
 * check evaluate them by walking integers: no objects, no strings, no allocation.
 *
 * Encoding, prefix order: a leaf is `[LEAF, permissionIndex]`; a group is `[ALL|ANY, end,
 * ...children]` where `end` is the offset just past its last child, so a group can be skipped
 * (and short-circuited) without decoding its children. An empty `all` holds, an empty `any` does
 * not, matching `catalog/requirement.ts`.
 */
import type { RequirementExpr } from "../../../catalog/schema.js";

/** Opcode of a single permission. */
export const LEAF = 0;
/** Opcode of an all-of group. */
export const ALL = 1;
/** Opcode of an any-of group. */
export const ANY = 2;

/** Appends compiled programs to one growing buffer; `start` offsets index into the final program. */
export class ProgramBuilder {
  private code: number[] = [];

  /** Compiles `expr`, resolving keys with `indexOf`, and returns the program offset of its root. */
  add(expr: RequirementExpr, indexOf: (key: string) => number): number {
    const start = this.code.length;
    this.emit(expr, indexOf);
    return start;
  }

  /** The finished program. */
  build(): Int32Array {
    return Int32Array.from(this.code);
  }

  private emit(expr: RequirementExpr, indexOf: (key: string) => number): void {
    if (typeof expr === "string") {
      this.code.push(LEAF, indexOf(expr));
      return;
    }
    const isAll = "all" in expr;
    const items = isAll ? expr.all : expr.any;
    const at = this.code.length;
    this.code.push(isAll ? ALL : ANY, 0);
    for (const item of items) this.emit(item, indexOf);
    this.code[at + 1] = this.code.length;
  }
}

/** Offset just past the node at `pc`. */
function nodeEnd(code: Int32Array, pc: number): number {
  return code[pc] === LEAF ? pc + 2 : code[pc + 1]!;
}

/** Whether the node at `pc` holds on `set` (a permission bitset at word 0). Allocation-free. */
export function holds(code: Int32Array, pc: number, set: Uint32Array): boolean {
  const op = code[pc]!;
  if (op === LEAF) {
    const p = code[pc + 1]!;
    return ((set[p >>> 5]! >>> (p & 31)) & 1) === 1;
  }
  const end = code[pc + 1]!;
  const want = op === ANY; // a child with this value decides the group
  for (let child = pc + 2; child < end; ) {
    let value: boolean;
    // Leaves are tested in place: most groups are flat lists of permissions, and a call per
    // leaf was most of the fixpoint's time on a cold check.
    if (code[child] === LEAF) {
      const q = code[child + 1]!;
      value = ((set[q >>> 5]! >>> (q & 31)) & 1) === 1;
      child += 2;
    } else {
      value = holds(code, child, set);
      child = code[child + 1]!;
    }
    if (value === want) return want;
  }
  return !want;
}

/**
 * Adds to `out` the permission indices that make the node at `pc` fail on `set`, in order of
 * first appearance: for an all-of, what its failing children lack; for an any-of that fails,
 * what each alternative lacks (every alternative would do). Nothing when the node holds.
 */
export function collectMissing(code: Int32Array, pc: number, set: Uint32Array, out: Set<number>): void {
  if (holds(code, pc, set)) return;
  if (code[pc] === LEAF) {
    out.add(code[pc + 1]!);
    return;
  }
  const end = code[pc + 1]!;
  for (let child = pc + 2; child < end; child = nodeEnd(code, child)) collectMissing(code, child, set, out);
}

/** A decoded node with its value on a set, for explanations. */
export type RequirementTrace =
  | { readonly kind: "permission"; readonly permission: number; readonly holds: boolean }
  | { readonly kind: "all" | "any"; readonly holds: boolean; readonly items: readonly RequirementTrace[] };

/** Decodes the node at `pc` into a tree carrying each node's value on `set` (allocates; not for the hot path). */
export function traceProgram(code: Int32Array, pc: number, set: Uint32Array): RequirementTrace {
  const value = holds(code, pc, set);
  if (code[pc] === LEAF) return { kind: "permission", permission: code[pc + 1]!, holds: value };
  const items: RequirementTrace[] = [];
  const end = code[pc + 1]!;
  for (let child = pc + 2; child < end; child = nodeEnd(code, child))
    items.push(traceProgram(code, child, set));
  return { kind: code[pc] === ALL ? "all" : "any", holds: value, items };
}
