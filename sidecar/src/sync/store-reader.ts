/**
 * Reads what changed in the store, on its own read-only connection: the file's identity and the
 * WAL index header (plain file reads: no lock, so no wait), then `PRAGMA data_version` (no I/O
 * unless another connection committed), then — in one read
 * transaction — the changed tenants' policy, the token principals and the registered apps. A
 * changed tenant is read whole the first time; after that, when the change log names the users a
 * write touched, only those users are read and the rest come from the TenantCache.
 * Synchronous and self-contained, so it runs inside the sync worker thread (or in-thread in tests).
 */
import { statSync } from "node:fs";
import type { Principal } from "../admin/principal.js";
import type { AppRegistration } from "../apps/app-registry.js";
import type { PolicySource, TenantPolicy } from "../policy/policy-source.js";
import { type Db, openDatabase } from "../store/database.js";
import { assertSchemaCurrent } from "../store/migrations.js";
import { readAppRegistrations, readTenantOwners, readTokenPrincipals } from "../store/read-directory.js";
import {
  type ChangeSet,
  readChangesSince,
  readRoleOrder,
  readTenantPart,
  readTenantsWithUsers,
} from "../store/read-policy.js";
import { readDatabaseId, readRevision } from "../store/revision.js";
import { cachedStatement } from "../store/statement-cache.js";
import { readUserColumns } from "./read-user-columns.js";
import { TenantCache, withFreshRoles, withFreshUsers } from "./tenant-cache.js";
import { readWalIndexHeader, type WalIndexHeader } from "./wal-index-header.js";

/** Side data read with each change: token principals and registered apps. */
export interface Directory {
  readonly tokens: ReadonlyMap<string, Principal>;
  readonly apps: ReadonlyMap<string, readonly AppRegistration[]>;
  /** Each tenant's owners. */
  readonly owners: ReadonlyMap<string, ReadonlySet<string>>;
}

/** A policy source without its catalog: the catalog stays on the main thread (it is not cloneable cheaply). */
export type DetachedSource = Omit<PolicySource, "catalog">;

/**
 * One part of a full read delivered in parts (the sync worker's): the tenants arrive a batch at a
 * time, all read in one transaction at the source's revision.
 */
export interface ReadPart {
  /** The first part: the read begins; `tenantIds` lists every tenant at this revision. */
  readonly first: boolean;
  /** The last part: every tenant has been sent. */
  readonly last: boolean;
  readonly tenantIds: readonly string[];
}

/** What one read found. */
export interface StoreRead {
  /** Everything (a first read, a catalog import, a restored or replaced file) or only changed tenants. */
  readonly full: boolean;
  /** For a full read delivered in parts: which part this is (its source holds that part's tenants). */
  readonly part?: ReadPart;
  /** The policy to compile; undefined when only the directory changed (e.g. a token was created). */
  readonly source: DetachedSource | undefined;
  /** What an incremental read was computed against: it applies only on a snapshot at exactly this state. */
  readonly base: KnownState | undefined;
  readonly directory: Directory;
}

/** The revision of the store the caller has applied, so a read returns only what is newer. */
export interface KnownState {
  readonly revision: number;
  readonly databaseId: string;
}

/**
 * The store cannot be read this instant: another process is rewriting or recovering its WAL
 * index. Keep the connection (opening one would wait on the same locks) and poll again.
 */
export class StoreBusyError extends Error {
  /** How long the index has looked mid-rewrite, in ms. */
  readonly unsettledMs: number;

  constructor(path: string, unsettledMs: number) {
    super(
      `the store's WAL index (${path}-shm) has been mid-rewrite for ${Math.round(unsettledMs)} ms: another process is writing or recovering it; the next poll tries again`,
    );
    this.name = "StoreBusyError";
    this.unsettledMs = unsettledMs;
  }
}

/** A full read in parts sends a part once it holds this many users (the first part: one tenant). */
const USERS_PER_PART = 20_000;

/** Receives the parts of a full read as they are read; the read then returns only the last one. */
export type PartSink = (read: StoreRead) => void;

/** Reads a tenant's rows without its users (they are read into columns separately). */
const NO_USERS: readonly string[] = Object.freeze([]);

/** One tenant with all its users in columns, or undefined when the store has no such tenant. */
function readWholeTenant(db: Db, tenantId: string): TenantPolicy | undefined {
  const [tenant] = readTenantsWithUsers(db, new Map([[tenantId, NO_USERS]]));
  if (tenant === undefined) return undefined;
  const roleIds = tenant.roles.map((r) => r.id);
  return { ...tenant, users: [], userColumns: readUserColumns(db, tenantId, roleIds) };
}

/** Polls one database file. Every method may throw; the caller records the failure and retries. */
export class StoreReader {
  readonly #path: string;
  readonly #onReading: () => void;
  readonly #usersPerPart: number;
  #db: Db | undefined;
  /** `PRAGMA data_version` prepared once per connection: `db.pragma()` compiles it on every poll. */
  #dataVersionQuery: { get(): unknown } | undefined;
  #fileStamp: string | undefined;
  #dataVersion: number | undefined;
  /** The WAL index header as of the last read: while it and the file's identity stay the same, nothing was committed. */
  #walHeader: Buffer | undefined;
  /** Since when the index header has looked mid-rewrite (performance.now()), or undefined. */
  #unsettledSince: number | undefined;
  readonly #repairUnsettledAfterMs: number | undefined;
  #sizeBytes: number | undefined;
  readonly #cache = new TenantCache();

  /**
   * @param onReading called when a change was seen and its (possibly long) read begins
   * @param usersPerPart a full read in parts sends a part once it holds this many users
   * @param repairUnsettledAfterMs once the WAL index has looked mid-rewrite this long, read
   *   through SQLite anyway, which repairs an index a writer left torn when it died (and may wait
   *   on another process's locks meanwhile: the worker thread's reader only). Default: never.
   */
  constructor(
    path: string,
    onReading: () => void = () => {},
    usersPerPart = USERS_PER_PART,
    repairUnsettledAfterMs?: number,
  ) {
    this.#path = path;
    this.#onReading = onReading;
    this.#usersPerPart = usersPerPart;
    this.#repairUnsettledAfterMs = repairUnsettledAfterMs;
  }

  /** Forgets what was read: the next read is done even if the file did not change since. */
  forget(): void {
    this.#dataVersion = undefined;
    this.#walHeader = undefined;
    this.#cache.clear();
  }

  /** Closes the connection; the next read reopens it (the file may have been replaced or repaired). */
  close(): void {
    this.#db?.close();
    this.#db = undefined;
    this.#dataVersionQuery = undefined;
    this.#dataVersion = undefined;
    this.#walHeader = undefined;
    this.#cache.clear();
  }

  /**
   * The database's size as of the last read that found a change (its pages, those still in the
   * WAL included), measured inside that read's transaction; undefined before one.
   */
  get sizeBytes(): number | undefined {
    return this.#sizeBytes;
  }

  /** Throws StoreBusyError for an index mid-rewrite, unless it has been so long enough to ask SQLite to repair it. */
  #settledOrThrow(header: WalIndexHeader): void {
    if (header.kind !== "unsettled") {
      this.#unsettledSince = undefined;
      return;
    }
    const now = performance.now();
    this.#unsettledSince ??= now;
    const ms = now - this.#unsettledSince;
    if (this.#repairUnsettledAfterMs === undefined || ms < this.#repairUnsettledAfterMs) {
      throw new StoreBusyError(this.#path, ms);
    }
  }

  /** The connection, (re)opened when the file was replaced or changed from outside since. */
  #open(): Db {
    const stat = statSync(this.#path); // throws ENOENT when the file is gone
    // A replaced file (restore, mv) has a new inode. A file truncated or overwritten in place keeps
    // its inode, and an open WAL connection would keep answering from its cache and the unchanged
    // WAL index, reporting a healthy sync over a destroyed file. Commits touch only the WAL, so the
    // main file changes only on checkpoints (rare) or from outside: reopen and re-verify then.
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (this.#db && stamp !== this.#fileStamp) this.close();
    if (!this.#db) {
      // Opening reads the schema, which would wait on another process's recovery locks.
      this.#settledOrThrow(readWalIndexHeader(this.#path));
      // busy timeout 0: a locked file fails this poll rather than waiting.
      this.#db = openDatabase(this.#path, { readonly: true, busyTimeoutMs: 0 });
      this.#fileStamp = stamp;
      try {
        assertSchemaCurrent(this.#db);
      } catch (err) {
        this.close();
        throw err;
      }
    }
    return this.#db;
  }

  /**
   * What changed since `known` (everything when undefined), or undefined when nothing did. With
   * `sink`, a full read is delivered in parts: every part but the last goes to `sink` as it is
   * read, and the last is returned.
   */
  read(known: KnownState | undefined, sink?: PartSink): StoreRead | undefined {
    const db = this.#open();
    // Read before the transaction begins: a commit landing in between changes it again, so the
    // next poll reads once more rather than miss it.
    const header = readWalIndexHeader(this.#path);
    this.#settledOrThrow(header);
    const walHeader = header.kind === "settled" ? header.bytes : undefined;
    if (known !== undefined && walHeader !== undefined && this.#walHeader?.equals(walHeader))
      return undefined;
    this.#dataVersionQuery ??= db.prepare("PRAGMA data_version").pluck();
    const version = this.#dataVersionQuery.get() as number;
    if (version === this.#dataVersion && known !== undefined) {
      this.#walHeader = walHeader;
      return undefined;
    }
    this.#onReading();
    const read = db
      .transaction((): StoreRead => {
        this.#sizeBytes =
          (cachedStatement(db, "PRAGMA page_count", "pluck").get() as number) *
          (cachedStatement(db, "PRAGMA page_size", "pluck").get() as number);
        const directory: Directory = {
          tokens: readTokenPrincipals(db),
          apps: readAppRegistrations(db),
          owners: readTenantOwners(db),
        };
        const changes = readChangesSince(db, known?.revision ?? 0);
        const full = known === undefined || changes.all || changes.databaseId !== known.databaseId;
        if (full) return this.#readAll(db, directory, sink);
        if (changes.revision === known.revision) return { full, source: undefined, base: known, directory };
        const tenants = this.#readChanged(db, known, changes);
        const present = new Set(tenants.map((t) => t.id));
        const removedTenantIds = changes.tenantIds.filter((id) => !present.has(id));
        this.#cache.advance(known, changes, tenants, removedTenantIds);
        const { revision, databaseId } = changes;
        return { full, source: { revision, databaseId, tenants, removedTenantIds }, base: known, directory };
      })
      .deferred();
    this.#dataVersion = version;
    this.#walHeader = walHeader;
    return read;
  }

  /** Every tenant, users in columns; in parts through `sink` when given. Inside the read transaction. */
  #readAll(db: Db, directory: Directory, sink: PartSink | undefined): StoreRead {
    const revision = readRevision(db);
    const databaseId = readDatabaseId(db);
    const ids = cachedStatement(db, "SELECT id FROM tenants ORDER BY id", "pluck").all() as string[];
    const all: TenantPolicy[] = [];
    let part: TenantPolicy[] = [];
    let partUsers = 0;
    let first = true;
    const message = (tenants: TenantPolicy[], last: boolean): StoreRead => ({
      full: true,
      source: { revision, databaseId, tenants },
      base: undefined,
      directory,
      ...(sink === undefined ? {} : { part: { first, last, tenantIds: first ? ids : [] } }),
    });
    // Tenant by tenant (not table-wide reads), so the first part is out after one tenant's rows.
    for (const id of ids) {
      const whole = readWholeTenant(db, id);
      if (whole === undefined) continue;
      all.push(whole);
      part.push(whole);
      partUsers += whole.userColumns!.count;
      // The first part as soon as it has a tenant: the sidecar serves what is compiled meanwhile.
      if (sink !== undefined && (first || partUsers >= this.#usersPerPart) && all.length < ids.length) {
        sink(message(part, false));
        first = false;
        part = [];
        partUsers = 0;
      }
    }
    this.#cache.fill({ revision, databaseId }, all);
    return message(sink === undefined ? all : part, true);
  }

  /**
   * The changed tenants as of `changes.revision`. A tenant whose changes name their users, and
   * which the cache holds as of `known`, gets only those users read — and, when the changes name
   * the roles they touched too, only those roles; any other is read whole.
   */
  #readChanged(db: Db, known: KnownState, changes: ChangeSet): TenantPolicy[] {
    const tenants: TenantPolicy[] = [];
    for (const id of changes.tenantIds) {
      const users = changes.changedUsers.get(id);
      const cached = this.#cache.get(known, id);
      const tenant =
        users && cached
          ? this.#readPart(db, id, cached, users, changes.changedRoles.get(id) ?? null)
          : readWholeTenant(db, id);
      if (tenant !== undefined) tenants.push(tenant);
    }
    return tenants;
  }

  /** `cached` brought up to date by reading only the named users (and roles, when named). */
  #readPart(
    db: Db,
    id: string,
    cached: TenantPolicy,
    userIds: readonly string[],
    roleIds: readonly string[] | null,
  ): TenantPolicy | undefined {
    let fresh: TenantPolicy | undefined;
    if (roleIds === null) [fresh] = readTenantsWithUsers(db, new Map([[id, NO_USERS]]));
    else {
      const part = readTenantPart(db, id, NO_USERS, roleIds);
      // A one-role change reads that role's grants, not the tenant's thousands.
      fresh = part && withFreshRoles(cached, part, roleIds, readRoleOrder(db, id));
      if (part !== undefined && fresh === undefined) return readWholeTenant(db, id);
    }
    if (fresh === undefined) return undefined;
    const roleOrder = fresh.roles.map((r) => r.id);
    const freshUsers = { ...fresh, users: [], userColumns: readUserColumns(db, id, roleOrder, userIds) };
    return withFreshUsers(cached, freshUsers, userIds);
  }
}
