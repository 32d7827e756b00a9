/**
 * Shared pieces of the reliability suites: a paced load generator over a stock grpc-js client,
 * the sidecar under test over either store backend (its own SQLite file, or a PostgreSQL primary
 * it follows into a local copy) with the store of record open beside it, a PolicyAdmin writer on
 * that store with per-revision snapshots read right after each commit, health and metrics
 * probes, and the duration switches (`ROLECALL_LONG=1` selects the long variants;
 * `ROLECALL_SOAK_SECONDS` sizes the soak).
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
import { openDatabase } from "../../sidecar/src/store/database.js";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { openPgStore } from "../../sidecar/src/store/pg/pg-policy-store.js";
import type { PolicyStore } from "../../sidecar/src/store/policy-store.js";
import { sqliteStore } from "../../sidecar/src/store/sqlite-policy-store.js";
import type { PostgresServer } from "../support/postgres.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";
import type { StoreBackendKind } from "../support/store/backends.js";

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

// ---- the sidecar under test and its store of record ---------------------------------------

/** Options of `startSidecarOver`. */
export interface SidecarOverOptions {
  /** Extra `serve` flags. Default none. */
  readonly args?: readonly string[];
  /** Extra environment of the sidecar. Default none. */
  readonly env?: NodeJS.ProcessEnv;
  /** The test file's PostgreSQL server (`usePostgres()`); required for `postgres`. */
  readonly postgres?: () => PostgresServer;
  /** With `postgres`: the follower's `--primary-poll-ms`. Default `200`. */
  readonly primaryPollMs?: number;
}

/**
 * A sidecar child process and the store it serves, opened beside it as a second admin process
 * would: with `sqlite` the sidecar's own file (a read-write connection of its own, and a separate
 * read-only one for reads); with `postgres` a fresh database on the file's server, the primary
 * the sidecar follows (`--primary URL`, its `--db` a fresh copy).
 */
export interface SidecarOver {
  readonly kind: StoreBackendKind;
  readonly sidecar: SidecarProcess;
  /** The store of record, for writes. */
  readonly store: PolicyStore;
  /** Reads of what has committed in the store of record (another connection than `store`'s with SQLite). */
  readonly reader: PolicyStore;
  /** PolicyAdmin over `store`, on the real catalog. */
  readonly admin: PolicyAdmin;
  /** Where a writer child process opens the store of record: the file's path or the primary's URL. */
  readonly location: string;
  /** The revisions committed above `revision`, with the kind of each (the store's change log), in order. */
  changesAbove(revision: number): Promise<{ revision: number; kind: string }[]>;
  /** Stops the sidecar and closes the store (dropping the primary's database). */
  close(): Promise<void>;
}

let primaries = 0;

/**
 * Starts the sidecar over a `backend` store and opens that store beside it. With `postgres` the
 * sidecar has migrated the new primary, imported the catalog and built the demo tenant before
 * it serves, so the caller's writes come after all of that.
 */
export async function startSidecarOver(
  backend: StoreBackendKind,
  options: SidecarOverOptions = {},
): Promise<SidecarOver> {
  if (backend === "sqlite") {
    const sidecar = await startSidecarProcess({
      args: options.args ?? [],
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    const db = openStore(sidecar.dbPath);
    const readDb = openDatabase(sidecar.dbPath, { readonly: true });
    const store = sqliteStore(db);
    return {
      kind: backend,
      sidecar,
      store,
      reader: sqliteStore(readDb),
      admin: createPolicyAdmin(store, catalog()),
      location: sidecar.dbPath,
      changesAbove: async (revision) =>
        readDb
          .prepare("SELECT revision, kind FROM change_log WHERE revision > ? ORDER BY revision, rowid")
          .all(revision) as { revision: number; kind: string }[],
      async close() {
        readDb.close();
        db.close();
        await sidecar.stop();
      },
    };
  }
  if (options.postgres === undefined)
    throw new TypeError("startSidecarOver('postgres') needs options.postgres");
  const server = options.postgres();
  const name = `reliability_${++primaries}`;
  const url = await server.createDatabase(name);
  const sidecar = await startSidecarProcess({
    args: [
      "--primary",
      url,
      "--primary-poll-ms",
      String(options.primaryPollMs ?? 200),
      ...(options.args ?? []),
    ],
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  const store = await openPgStore(url, { maxConnections: 2 });
  return {
    kind: backend,
    sidecar,
    store,
    // REPEATABLE READ, READ ONLY: one snapshot of what has committed.
    reader: store,
    admin: createPolicyAdmin(store, catalog()),
    location: url,
    changesAbove: (revision) =>
      store.readSql(
        async (query) =>
          (
            await query<{ revision: number; kind: string }>(
              "SELECT revision, kind FROM change_log WHERE revision > $1 ORDER BY revision, seq",
              [revision],
            )
          ).rows,
      ),
    async close() {
      await sidecar.stop();
      await store.close();
      await server.dropDatabase(name);
    },
  };
}

/**
 * Writes through PolicyAdmin on the store of record and, right after each commit, reads the
 * whole policy at that revision in one consistent read (SQLite: through a separate read-only
 * connection), so any answer can be compared with the store as of its revision.
 */
export class RecordingWriter {
  readonly sources = new Map<number, PolicySource>();

  private constructor(private readonly target: SidecarOver) {}

  /** A writer on `target`'s store, with the policy as it stands recorded. */
  static async start(target: SidecarOver): Promise<RecordingWriter> {
    const writer = new RecordingWriter(target);
    await writer.record();
    return writer;
  }

  /** Reads the current policy in one read transaction and keeps it under its revision. */
  async record(): Promise<PolicySource> {
    const source = await this.target.reader.read(async (tx) =>
      tx.policySource(catalog(), await tx.tenantIds()),
    );
    this.sources.set(source.revision, source);
    return source;
  }

  /** Runs one admin write; records the state it committed. Returns its revision, or undefined when refused. */
  async write(fn: (admin: PolicyAdmin) => Promise<{ revision: number }>): Promise<number | undefined> {
    let revision: number;
    try {
      revision = (await fn(this.target.admin)).revision;
    } catch (err) {
      if ((err as { name?: string }).name === "StoreError") return undefined; // a refused write commits nothing
      throw err;
    }
    const source = await this.record();
    if (source.revision !== revision) {
      throw new Error(`read revision ${source.revision} right after committing ${revision}: another writer?`);
    }
    return revision;
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
