/**
 * The per-user effective-set cache: an `lru-cache` bounded by entry count, keyed by database id,
 * revision (the one it was computed at), tenant and user.
 *
 * Building that string key on every check would cost more than the check itself, so a hit is
 * found through a slot array per compiled tenant (indexed by the user's dense index). A compiled
 * tenant is immutable and compiled on one catalog, and a user's set depends only on the two, so
 * the slot array of that tenant object is all a hit needs: an entry stays right at later revisions
 * for as long as the snapshot keeps that very object. A write to one tenant recompiles that tenant
 * alone and leaves every other tenant's cached users warm. The engine drops a replaced tenant's
 * entries (`dropTenant`) and everything on another database (`clear`). The LRU stays the
 * authority: it bounds the entries, and evicting one clears its slot.
 *
 * lru-cache allocates its arrays for `max` entries up front: 1.6 MB of heap at the default bound
 * of 100,000 users, held by a sidecar whose tenants have a few hundred. So the LRU starts small
 * and is replaced by one four times larger, entries moved in recency order, each time it fills
 * below the bound; only at the bound does it evict.
 */
import { LRUCache } from "lru-cache";
import { computeEffective, type EffectiveBits, type EffectiveLookup } from "./effective-set.js";
import type { CompiledTenant, Snapshot } from "./snapshot.js";

/** The cache key of one user's effective set: every field is length-prefixed, so distinct tuples never collide. */
export function cacheKey(databaseId: string, revision: number, tenantId: string, userId: string): string {
  return `${databaseId.length}:${databaseId}\0${revision}\0${tenantId.length}:${tenantId}\0${userId}`;
}

/** One cached effective set. */
interface CacheEntry {
  readonly key: string;
  /** The slot array it sits in, so eviction can clear it. */
  readonly slots: (CacheEntry | undefined)[];
  readonly userIndex: number;
  readonly bits: EffectiveBits;
  /** `EffectiveCache.inserts` when its LRU recency was last refreshed. */
  touchedAt: number;
}

/** Counters for metrics. */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Entries held now. */
  readonly size: number;
  /** The bound on entries. */
  readonly max: number;
}

/** The first LRU's capacity (or the bound, when smaller). */
const FIRST_CAPACITY = 1024;
/** Each larger LRU's capacity over the last one's. */
const GROWTH = 4;

/** A bounded cache of per-user effective sets. */
export class EffectiveCache {
  private lru: LRUCache<string, CacheEntry>;
  /** The bound on entries: the LRU grows up to it. */
  private readonly max: number;
  // Weak so a tenant dropped with its snapshot takes its slots with it.
  private readonly slotsByTenant = new WeakMap<CompiledTenant, (CacheEntry | undefined)[]>();
  private lastTenant: CompiledTenant | undefined;
  private lastSlots: (CacheEntry | undefined)[] = [];
  private hits = 0;
  private misses = 0;
  /** Entries inserted so far: the clock by which an entry's recency ages. */
  private inserts = 0;
  /** Refresh an entry's LRU recency once this many insertions happened since the last refresh. */
  private readonly touchEvery: number;

  /** `max` bounds the number of cached users; it must be a positive integer. */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError(`max must be a positive integer, got ${max}`);
    this.max = max;
    this.touchEvery = Math.max(1, max >>> 1);
    this.lru = EffectiveCache.newLru(Math.min(max, FIRST_CAPACITY));
  }

  private static newLru(capacity: number): LRUCache<string, CacheEntry> {
    return new LRUCache<string, CacheEntry>({
      max: capacity,
      dispose: (entry) => {
        if (entry.slots[entry.userIndex] === entry) entry.slots[entry.userIndex] = undefined;
      },
    });
  }

  /** Moves the entries, least recent first, into an LRU `GROWTH` times larger (at most the bound). */
  private grow(): void {
    const larger = EffectiveCache.newLru(Math.min(this.max, this.lru.max * GROWTH));
    this.lru.rforEach((entry, key) => larger.set(key, entry));
    this.lru = larger;
  }

  /** The user's effective bits, from the cache or computed and cached. Pass as an `EffectiveLookup`. */
  readonly lookup: EffectiveLookup = (snapshot, tenant, userIndex) => {
    const slots = tenant === this.lastTenant ? this.lastSlots : this.slotsOf(tenant);
    const hit = slots[userIndex];
    if (hit !== undefined) {
      this.hits++;
      // Refreshing LRU recency on every hit would double the cost of a check. An entry can only be
      // evicted after `max` insertions since its last refresh, so refreshing once `max / 2` have
      // happened keeps every entry hit at least that often, which is what LRU order protects.
      if (this.inserts - hit.touchedAt >= this.touchEvery) {
        hit.touchedAt = this.inserts;
        this.lru.get(hit.key);
      }
      return hit.bits;
    }
    this.misses++;
    return this.fill(snapshot, tenant, slots, userIndex);
  };

  /** Hit/miss counters and size. */
  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, size: this.lru.size, max: this.max };
  }

  /** Whether an entry exists under exactly this key (for tests of the key's fields). */
  hasKey(key: string): boolean {
    return this.lru.has(key);
  }

  /** Drops every entry (the counters stay): another database's entries can never hit again. */
  clear(): void {
    this.lru.clear();
  }

  /** Drops the entries of a compiled tenant the snapshot no longer holds (recompiled or removed). */
  dropTenant(tenant: CompiledTenant): void {
    const slots = this.slotsByTenant.get(tenant);
    if (slots === undefined) return;
    const entries = slots.filter((entry) => entry !== undefined);
    if (entries.length === this.lru.size) {
      // Every entry is this tenant's (one busy tenant, a follower's demo): deleting the last one
      // would make lru-cache sweep its key and value arrays, `max` long, on every write; popping
      // empties it at a constant cost per entry. Evicting disposes, which clears the slots.
      while (this.lru.size > 0) this.lru.pop();
    } else {
      // Deleting an entry disposes it, which clears its slot.
      for (const entry of entries) this.lru.delete(entry.key);
    }
    this.slotsByTenant.delete(tenant);
    if (this.lastTenant === tenant) {
      this.lastTenant = undefined;
      this.lastSlots = [];
    }
  }

  private slotsOf(tenant: CompiledTenant): (CacheEntry | undefined)[] {
    let slots = this.slotsByTenant.get(tenant);
    if (slots === undefined) {
      slots = new Array<CacheEntry | undefined>(tenant.userIds.length).fill(undefined);
      this.slotsByTenant.set(tenant, slots);
    }
    this.lastTenant = tenant;
    this.lastSlots = slots;
    return slots;
  }

  private fill(
    snapshot: Snapshot,
    tenant: CompiledTenant,
    slots: (CacheEntry | undefined)[],
    userIndex: number,
  ): EffectiveBits {
    const { databaseId, revision } = snapshot;
    const key = cacheKey(databaseId, revision, tenant.id, tenant.userIds[userIndex]!);
    const entry: CacheEntry = {
      key,
      slots,
      userIndex,
      bits: computeEffective(snapshot.catalog, tenant, userIndex),
      touchedAt: ++this.inserts,
    };
    if (this.lru.size === this.lru.max && this.lru.max < this.max) this.grow();
    // Set first: replacing an older entry under the same key disposes it, which clears the slot.
    this.lru.set(key, entry);
    slots[userIndex] = entry;
    return entry.bits;
  }
}
