/**
 * Reads what changed in the store, on its own read-only connection: the file's identity, then
 * `PRAGMA data_version` (no I/O unless another connection committed), then — in one read
 * transaction — the changed tenants' policy, the token principals and the registered apps. A
 * changed tenant is read whole the first time; after that, when the change log names the users a
 * write touched, only those users are read and the rest come from the TenantCache.
 * Synchronous and self-contained, so it runs inside the sync worker thread (or in-thread in tests).
 */
import { statSync } from "node:fs";
import type { Catalog } from "../../../catalog/catalog.js";
import type { Principal } from "../admin/principal.js";
import type { AppRegistration } from "../apps/app-registry.js";
import type { PolicySource, TenantPolicy } from "../policy/policy-source.js";
import { type Db, openDatabase } from "../store/database.js";
import { assertSchemaCurrent } from "../store/migrations.js";
import { readAppRegistrations, readTenantOwners, readTokenPrincipals } from "../store/read-directory.js";
import {
  type ChangeSet,
  readChangesSince,
  readPolicySource,
  readPolicySourceForTenants,
  readTenantsWithUsers,
} from "../store/read-policy.js";
import { TenantCache, withFreshUsers } from "./tenant-cache.js";

/** Side data read with each change: token principals and registered apps. */
export interface Directory {
  readonly tokens: ReadonlyMap<string, Principal>;
  readonly apps: ReadonlyMap<string, readonly AppRegistration[]>;
  /** Each tenant's owners. */
  readonly owners: ReadonlyMap<string, ReadonlySet<string>>;
}

/** A policy source without its catalog: the catalog stays on the main thread (it is not cloneable cheaply). */
export type DetachedSource = Omit<PolicySource, "catalog">;

/** What one read found. */
export interface StoreRead {
  /** Everything (a first read, a catalog import, a restored or replaced file) or only changed tenants. */
  readonly full: boolean;
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

// readPolicySource only attaches the catalog to its result; the reader never needs a real one.
const NO_CATALOG = undefined as unknown as Catalog;

function detach(source: PolicySource): DetachedSource {
  const { catalog: _catalog, ...rest } = source;
  return rest;
}

/** Polls one database file. Every method may throw; the caller records the failure and retries. */
export class StoreReader {
  readonly #path: string;
  readonly #onReading: () => void;
  #db: Db | undefined;
  #fileStamp: string | undefined;
  #dataVersion: number | undefined;
  readonly #cache = new TenantCache();

  /** @param onReading called when a change was seen and its (possibly long) read begins */
  constructor(path: string, onReading: () => void = () => {}) {
    this.#path = path;
    this.#onReading = onReading;
  }

  /** Forgets what was read: the next read is done even if the file did not change since. */
  forget(): void {
    this.#dataVersion = undefined;
    this.#cache.clear();
  }

  /** Closes the connection; the next read reopens it (the file may have been replaced or repaired). */
  close(): void {
    this.#db?.close();
    this.#db = undefined;
    this.#dataVersion = undefined;
    this.#cache.clear();
  }

  /** What changed since `known` (everything when undefined), or undefined when nothing did. */
  read(known: KnownState | undefined): StoreRead | undefined {
    const stat = statSync(this.#path); // throws ENOENT when the file is gone
    // A replaced file (restore, mv) has a new inode. A file truncated or overwritten in place keeps
    // its inode, and an open WAL connection would keep answering from its cache and the unchanged
    // WAL index, reporting a healthy sync over a destroyed file. Commits touch only the WAL, so the
    // main file changes only on checkpoints (rare) or from outside: reopen and re-verify then.
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (this.#db && stamp !== this.#fileStamp) this.close();
    if (!this.#db) {
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
    const db = this.#db;
    const version = db.pragma("data_version", { simple: true }) as number;
    if (version === this.#dataVersion && known !== undefined) return undefined;
    this.#onReading();
    const read = db
      .transaction((): StoreRead => {
        const directory: Directory = {
          tokens: readTokenPrincipals(db),
          apps: readAppRegistrations(db),
          owners: readTenantOwners(db),
        };
        const changes = readChangesSince(db, known?.revision ?? 0);
        const full = known === undefined || changes.all || changes.databaseId !== known.databaseId;
        if (full) {
          const source = readPolicySource(db, NO_CATALOG);
          this.#cache.fill(source, source.tenants);
          return { full, source: detach(source), base: undefined, directory };
        }
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
    return read;
  }

  /**
   * The changed tenants as of `changes.revision`. A tenant whose changes name their users, and
   * which the cache holds as of `known`, gets only those users read; any other is read whole.
   */
  #readChanged(db: Db, known: KnownState, changes: ChangeSet): TenantPolicy[] {
    const whole: string[] = [];
    const someUsers = new Map<string, readonly string[]>();
    for (const id of changes.tenantIds) {
      const users = changes.changedUsers.get(id);
      if (users && this.#cache.get(known, id)) someUsers.set(id, users);
      else whole.push(id);
    }
    const tenants = whole.length > 0 ? [...readPolicySourceForTenants(db, NO_CATALOG, whole).tenants] : [];
    for (const fresh of readTenantsWithUsers(db, someUsers)) {
      tenants.push(withFreshUsers(this.#cache.get(known, fresh.id)!, fresh, someUsers.get(fresh.id)!));
    }
    return tenants;
  }
}
