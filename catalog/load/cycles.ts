/**
 * Phase 3, cycles: over "implies" edges, across systems. Each cycle is reported once, at its
 * alphabetically first permission.
 *
 * Requirement cycles are allowed: the documents have them (Calabrio's Capture Desktop Events and
 * Capture Desktop Analytics each require the other), and the effective set is the greatest
 * fixpoint, so the members of a cycle count exactly when all of them are granted and licensed.
 * An implication cycle would make its members one permission under several names: refused.
 */
import { qualifyKey } from "../requirement.js";
import type { IssueList } from "./issues.js";
import { type References, systemOf } from "./references.js";
import type { SystemDraft } from "./shape.js";

/** Reports every implication cycle among resolved references. */
export function checkCycles(drafts: readonly SystemDraft[], refs: References, issues: IssueList): void {
  const implies = new Map<string, string[]>();
  for (const system of drafts) {
    for (const p of system.permissions) {
      const resolved = p.implies.map((r) => qualifyKey(r, system.id)).filter((r) => refs.permissions.has(r));
      implies.set(`${system.id}/${p.key}`, resolved);
    }
  }
  for (const cycle of findCycles(implies)) {
    const start = refs.permissions.get(cycle[0]!)!;
    const sameSystem = cycle.every((k) => systemOf(k) === start.system.id);
    const shown = [...cycle, cycle[0]!].map((k) => (sameSystem ? k.slice(start.system.id.length + 1) : k));
    issues.add(
      start.system.file,
      start.entry.key,
      `permission '${start.entry.key}': implication cycle (it ends up implying itself): ${shown.join(" → ")}`,
    );
  }
}

/**
 * One cycle per strongly connected component that has one (Tarjan's algorithm, iterative so a
 * long chain cannot overflow the stack), each as the path of keys from its alphabetically first
 * member back to just before it, so the report is stable.
 */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const nodes = [...graph.keys()].sort();

  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; edge: number }[] = [{ node: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = graph.get(frame.node) ?? [];
      if (frame.edge < edges.length) {
        const to = edges[frame.edge++]!;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        for (;;) {
          const member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
          if (member === frame.node) break;
        }
        components.push(component);
      }
    }
  }

  const cycles: string[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const start = [...component].sort()[0]!;
    const selfLoop = (graph.get(start) ?? []).includes(start);
    if (component.length === 1 && !selfLoop) continue;
    if (selfLoop) {
      cycles.push([start]);
      continue;
    }
    // Shortest path inside the component from start back to start (breadth-first, sorted edges).
    const previous = new Map<string, string>();
    const queue = [start];
    let closing: string | null = null;
    while (queue.length > 0 && closing === null) {
      const node = queue.shift()!;
      for (const to of [...(graph.get(node) ?? [])].sort()) {
        if (!members.has(to)) continue;
        if (to === start) {
          closing = node;
          break;
        }
        if (!previous.has(to)) {
          previous.set(to, node);
          queue.push(to);
        }
      }
    }
    const path: string[] = [];
    for (let node: string | undefined = closing ?? start; node !== undefined && node !== start; ) {
      path.unshift(node);
      node = previous.get(node);
    }
    cycles.push([start, ...path]);
  }
  return cycles.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}
