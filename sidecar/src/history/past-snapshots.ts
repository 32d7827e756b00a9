/**
 * Engines deciding on past revisions: a tenant rebuilt at revision R (past-policy.ts), compiled by
 * the same compiler as the live snapshot, on a catalog compiled once per store. A few of them are
 * kept (lru-cache): an investigation asks the same revision again and again.
 */
import { LRUCache } from "lru-cache";
import type { Catalog } from "../../../catalog/catalog.js";
import { compileSnapshot, recompileTenants } from "../policy/compiler.js";
import { createPolicyEngine, type PolicyEngine } from "../policy/policy-engine.js";
import type { TenantPolicy } from "../policy/policy-source.js";
import type { Snapshot } from "../policy/snapshot.js";
import type { PolicyStore, PolicyStoreReads } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";
import { type AccessChangesPage, type AccessChangesQuery, listAccessChanges } from "./access-changes.js";
import {
  DEFAULT_HISTORY_DAYS,
  type HistoryPolicy,
  type PastAsk,
  resolvePastRevision,
} from "./history-bounds.js";
import { type PastState, pastTenant } from "./past-policy.js";

/** Options of `PastSnapshots`. */
export interface PastSnapshotsOptions {
  /** The store history is read from (a sidecar following a primary: its local copy). */
  readonly store: PolicyStore;
  readonly catalog: Catalog;
  /** Days of history kept. Default 90. */
  readonly historyDays?: number;
  /** Past engines kept. Default 8. */
  readonly maxCached?: number;
  /** The clock. Default `() => new Date()`. */
  readonly now?: () => Date;
  /**
   * The snapshot a sidecar serves: a walk back starts from its tenant when it is exactly the
   * store's (same database and revision), instead of reading and compiling the tenant whole.
   */
  readonly current?: () => Snapshot | undefined;
}

/** An engine on one tenant at one past revision. */
export interface PastEngine {
  readonly revision: number;
  readonly engine: PolicyEngine;
}

/** The catalog compiled once per catalog and database id, shared by every reader in the process. */
const bases = new WeakMap<Catalog, Snapshot>();

/** Compiles tenants at past revisions onto one compiled catalog (per database id). */
export class PastCompiler {
  constructor(private readonly catalog: Catalog) {}

  /** A snapshot at `revision` holding just `tenant` (none: it did not exist then). */
  compile(databaseId: string, revision: number, tenant: TenantPolicy | undefined): Snapshot {
    let base = bases.get(this.catalog);
    if (base?.databaseId !== databaseId) {
      base = compileSnapshot({ databaseId, revision: 0, catalog: this.catalog, tenants: [] });
      bases.set(this.catalog, base);
    }
    const tenants = tenant === undefined ? [] : [tenant];
    return recompileTenants(base, { databaseId, revision, catalog: this.catalog, tenants }, revision);
  }
}

/** Past engines, rebuilt on demand and cached. */
export class PastSnapshots {
  readonly policy: HistoryPolicy;
  private readonly compiler: PastCompiler;
  private readonly cache: LRUCache<string, PastEngine>;
  /**
   * Rebuilt tenant states by (database, tenant, revision): an ask below one walks back from it,
   * not from now — an investigation asks revisions near each other. The log above a revision
   * never changes (a restore is another database id), so a state stays true.
   */
  private readonly states: LRUCache<string, PastState>;

  constructor(private readonly options: PastSnapshotsOptions) {
    this.policy = {
      historyDays: options.historyDays ?? DEFAULT_HISTORY_DAYS,
      now: options.now ?? (() => new Date()),
    };
    this.compiler = new PastCompiler(options.catalog);
    this.cache = new LRUCache({ max: options.maxCached ?? 8 });
    this.states = new LRUCache({ max: 2 * (options.maxCached ?? 8) });
  }

  /** The kept state of the tenant at the lowest revision at or above `revision`, if any. */
  private nearestAbove(databaseId: string, tenantId: string, revision: number): PastState | undefined {
    let best: PastState | undefined;
    const prefix = `${databaseId}\u0000${tenantId}\u0000`;
    for (const [key, state] of this.states.entries()) {
      if (!key.startsWith(prefix) || state.revision < revision) continue;
      if (best === undefined || state.revision < best.revision) best = state;
    }
    return best;
  }

  /** The past revision `ask` names, checked against the history kept; `undefined` for the present. */
  resolve(tx: PolicyStoreReads, ask: PastAsk): Promise<number | undefined> {
    return resolvePastRevision(tx, ask, this.policy);
  }

  /** An engine deciding `tenantId` as it stood when `ask` says; `undefined` when `ask` is of the present. */
  engineAt(tenantId: string, ask: PastAsk): Promise<PastEngine | undefined> {
    return this.options.store.read(async (tx) => {
      const revision = await this.resolve(tx, ask);
      if (revision === undefined) return undefined;
      const databaseId = await tx.databaseId();
      const key = `${databaseId}\u0000${tenantId}\u0000${revision}`;
      const cached = this.cache.get(key);
      if (cached !== undefined) return cached;
      const state = await pastTenant(
        tx,
        this.options.catalog,
        tenantId,
        revision,
        this.nearestAbove(databaseId, tenantId, revision),
        this.options.current?.(),
      );
      this.states.set(key, state);
      const tenant = state.policy;
      if (tenant === undefined) {
        throw new StoreError("NOT_FOUND", `tenant '${tenantId}' did not exist at revision ${revision}`, {
          field: "tenant_id",
        });
      }
      const snapshot = this.compiler.compile(databaseId, revision, tenant);
      // One user at a time is asked about: a small effective-set cache is plenty.
      const past = { revision, engine: createPolicyEngine({ snapshot, maxCachedUsers: 64 }) };
      this.cache.set(key, past);
      return past;
    });
  }

  /** The revisions at which a user's access changed, newest first (access-changes.ts). */
  accessChanges(query: AccessChangesQuery): Promise<AccessChangesPage> {
    return this.options.store.read((tx) =>
      listAccessChanges(tx, this.options.catalog, this.compiler, this.policy, query),
    );
  }
}
