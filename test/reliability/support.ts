/**
 * Shared pieces of the reliability suites: a paced load generator over a stock grpc-js client,
 * a PolicyAdmin writer on the sidecar's database file with per-revision snapshots read through a
 * separate read-only connection, health and metrics probes, and the duration switches
 * (`ROLECALL_LONG=1` selects the long variants; `ROLECALL_SOAK_SECONDS` sizes the soak).
 */
import { readFileSync, statSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";
import type { Catalog, CatalogPermission } from "../../catalog/catalog.js";
import { loadCatalog } from "../../catalog/loader.js";
import { createPolicyAdmin, type PolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import type { Principal } from "../../sidecar/src/admin/principal.js";
import type { PolicySource } from "../../sidecar/src/policy/policy-source.js";
import { type Db, openDatabase } from "../../sidecar/src/store/database.js";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { readPolicySource } from "../../sidecar/src/store/read-policy.js";
import { sqliteStore } from "../../sidecar/src/store/sqlite-policy-store.js";

/** Whether the long variants were asked for. */
export const LONG = process.env.ROLECALL_LONG === "1";

/** A number from the environment, or the fallback. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return n;
}

export const BOOTSTRAP: Principal = { kind: "bootstrap" };

let catalogCache: Catalog | undefined;
/** The real catalog, loaded once per process (it takes a while). */
export function catalog(): Catalog {
  catalogCache ??= loadCatalog();
  return catalogCache;
}

/** Sleeps without keeping the process alive longer than needed. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 20 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(20);
  }
  return cond();
}

/**
 * Writes through PolicyAdmin on the sidecar's file (its own read-write connection, as a second
 * admin process would) and, right after each commit, reads the whole policy at that revision
 * through a separate read-only connection, so any answer can be compared with the store as of
 * its revision.
 */
export class RecordingWriter {
  readonly db: Db;
  readonly admin: PolicyAdmin;
  readonly reader: Db;
  readonly sources = new Map<number, PolicySource>();

  constructor(readonly dbPath: string) {
    this.db = openStore(dbPath);
    this.admin = createPolicyAdmin(sqliteStore(this.db), catalog());
    this.reader = openDatabase(dbPath, { readonly: true });
    this.record();
  }

  /** Reads the current policy in one read transaction and keeps it under its revision. */
  record(): PolicySource {
    const source = this.reader.transaction(() => readPolicySource(this.reader, catalog())).deferred();
    this.sources.set(source.revision, source);
    return source;
  }

  /** Runs one admin write; records the state it committed. Returns its revision, or undefined when refused. */
  async write(fn: (admin: PolicyAdmin) => Promise<{ revision: number }>): Promise<number | undefined> {
    let revision: number;
    try {
      revision = (await fn(this.admin)).revision;
    } catch (err) {
      if ((err as { name?: string }).name === "StoreError") return undefined; // a refused write commits nothing
      throw err;
    }
    const source = this.record();
    if (source.revision !== revision) {
      throw new Error(`read revision ${source.revision} right after committing ${revision}: another writer?`);
    }
    return revision;
  }

  close(): void {
    this.reader.close();
    this.db.close();
  }
}

/** Permissions with no requirement, implication, license, mutuality or scope: a grant is exactly one key. */
export function plainPermissions(systemId: string): CatalogPermission[] {
  const c = catalog();
  const implied = new Set<string>();
  const required = new Set<string>();
  const collect = (expr: unknown): void => {
    if (typeof expr === "string") required.add(expr);
    else if (expr && typeof expr === "object") {
      for (const items of Object.values(expr)) if (Array.isArray(items)) for (const e of items) collect(e);
    }
  };
  for (const p of c.permissions.values()) {
    for (const i of p.implies) implied.add(i);
    if (p.requires) collect(p.requires);
  }
  return [...c.permissions.values()].filter(
    (p) =>
      p.system === systemId &&
      !p.requires &&
      p.implies.length === 0 &&
      p.licenses.length === 0 &&
      !p.mutual &&
      p.scope === null &&
      !implied.has(p.key) &&
      !required.has(p.key),
  );
}

// ---- gRPC ------------------------------------------------------------------------------------

/** A unary call with a deadline; resolves with the response or the error. */
export function call<T>(
  client: grpc.Client,
  method: string,
  request: object,
  deadlineMs = 5_000,
): Promise<{ ok: true; res: T } | { ok: false; err: grpc.ServiceError }> {
  const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[method];
  if (!fn) throw new Error(`no method ${method}`);
  return new Promise((resolve) => {
    fn.call(
      client,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err: grpc.ServiceError | null, res: T) => resolve(err ? { ok: false, err } : { ok: true, res }),
    );
  });
}

/** A CheckPermission answer as the stock client decodes it (longs as strings, enums as names). */
export interface WireDecision {
  allowed: boolean;
  reason: string;
  missing: string[];
  revision: string;
}

const healthPackage = grpc.loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};

/** grpc.health.v1 Check of the whole server, or the error code as a string. */
export async function healthStatus(address: string): Promise<string> {
  const client = new healthPackage.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  try {
    const r = await call<{ status: string }>(client, "check", { service: "" }, 2_000);
    return r.ok ? r.res.status : `error ${r.err.code}`;
  } finally {
    client.close();
  }
}

/** One sample (no labels) from the sidecar's /metrics. */
export async function metric(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`metric ${name} not found`);
  return Number(line.slice(name.length + 1));
}

/** Resident memory of a process in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Size of a file, 0 when it does not exist. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The q-quantile of unsorted samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Options of `paced`. */
export interface PacedOptions {
  /** Calls started per second. */
  readonly rate: number;
  /** How long to keep starting calls. */
  readonly durationMs: number;
  /** Most calls in flight; beyond it the generator skips (and counts) the slot rather than queue. */
  readonly maxInFlight?: number;
  /** Stops starting calls early once this returns true. */
  readonly stop?: () => boolean;
  /** Starts one call; its promise settles when the answer has been judged. */
  readonly fire: (i: number) => Promise<void>;
}

/** What a paced run did. */
export interface PacedResult {
  readonly started: number;
  readonly skipped: number;
  readonly elapsedMs: number;
}

/**
 * Starts `rate` calls per second for `durationMs` (an open-loop generator, ticking every 5 ms),
 * never more than `maxInFlight` at once, then waits for the calls in flight.
 */
export async function paced(o: PacedOptions): Promise<PacedResult> {
  const maxInFlight = o.maxInFlight ?? 512;
  const start = performance.now();
  let started = 0;
  let skipped = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  while (performance.now() - start < o.durationMs && !o.stop?.()) {
    const due = Math.floor(((performance.now() - start) / 1000) * o.rate);
    while (started + skipped < due) {
      if (inFlight >= maxInFlight) {
        skipped++;
        continue;
      }
      inFlight++;
      const p: Promise<void> = o.fire(started++).finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    await sleep(5);
  }
  await Promise.all(pending);
  return { started, skipped, elapsedMs: performance.now() - start };
}
