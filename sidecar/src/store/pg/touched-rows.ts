/**
 * What one revision wrote, recorded by the PostgreSQL store as its transaction writes and
 * stored in the change log (`detail.touched`), so that a follower copies only those rows:
 *
 * - `tenant`: the tenant's own rows (its name, systems, owners, license pools, apps) — small,
 *   copied together;
 * - `roles`: role ids whose row, grants or licenses changed;
 * - `users`: user ids whose row or role assignments changed.
 *
 * Every write method of the store's transaction reports here, so what a revision touched is
 * never under-reported. A write undone by a savepoint may leave an id reported that did not
 * change: copying it again is harmless. A revision whose writes reach another tenant than the
 * one it is logged under records nothing, and a follower then copies its tenant whole.
 */

/** `detail.touched` of a change-log row. */
export interface TouchedRecord {
  readonly tenant: boolean;
  readonly roles: readonly string[];
  readonly users: readonly string[];
}

/** Collects what a transaction writes until its next commit. */
export class TouchedRows {
  #tenants = new Set<string>();
  #tenantRows = false;
  #roles = new Set<string>();
  #users = new Set<string>();

  tenant(tenantId: string): void {
    this.#tenants.add(tenantId);
    this.#tenantRows = true;
  }

  role(tenantId: string, roleId: string): void {
    this.#tenants.add(tenantId);
    this.#roles.add(roleId);
  }

  user(tenantId: string, userId: string): void {
    this.#tenants.add(tenantId);
    this.#users.add(userId);
  }

  /**
   * What was touched since the last call, for a revision logged under `tenantId` — undefined
   * when it cannot be told precisely (nothing recorded, or another tenant written too) — and
   * starts afresh for the next revision of the same transaction.
   */
  take(tenantId: string | null): TouchedRecord | undefined {
    const precise = tenantId !== null && this.#tenants.size === 1 && this.#tenants.has(tenantId);
    const record: TouchedRecord | undefined = precise
      ? { tenant: this.#tenantRows, roles: [...this.#roles], users: [...this.#users] }
      : undefined;
    this.#tenants = new Set();
    this.#tenantRows = false;
    this.#roles = new Set();
    this.#users = new Set();
    return record;
  }

  /**
   * The change-log detail of a revision logged under `tenantId`: `detail` with what was touched
   * (`take`) added when it is an object and that is known; `detail` itself otherwise.
   */
  detailFor(tenantId: string | null, detail: unknown): unknown {
    const touched = this.take(tenantId);
    return touched === undefined || typeof detail !== "object" || detail === null
      ? detail
      : { ...detail, touched };
  }
}
