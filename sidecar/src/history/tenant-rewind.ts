/**
 * One tenant's policy walked backwards through its audit rows: every admin write records the
 * state it changed before and after (the role with its grants and licenses, the user with their
 * roles, the seats of a license), so undoing a write is putting its `before` back. A row this
 * module cannot undo stops the walk: history before it is not rebuilt rather than rebuilt wrong.
 */
import type { RoleRecord, TenantPolicy, UserRecord } from "../policy/policy-source.js";
import { decodeUserIds, type UserColumns, UserColumnsBuilder, userRecordAt } from "../policy/user-columns.js";
import type { AuditRow, RoleState, UserState } from "../store/policy-store.js";

/** The audited operations that change nothing a decision reads (owners, app registrations). */
const DECISION_NEUTRAL = new Set(["SetTenantOwners", "PutApp", "DeleteApp"]);

/** The role operations: their before/after are a role with its grants and licenses. */
const ROLE_OPERATIONS = new Set([
  "CreateRole",
  "RenameRole",
  "DeleteRole",
  "GrantPermissions",
  "RevokePermissions",
  "SetRoleLicenses",
]);

/** The user operations: their before/after are a user with their roles. */
const USER_OPERATIONS = new Set(["CreateUser", "SetUserActive", "AssignRoles", "UnassignRoles"]);

/** What an audit row touched, for deciding whose access it may have changed. */
export interface Touched {
  /** The user whose record changed, when the write was to one user. */
  readonly userId?: string;
  /** The role whose grants, licenses or name changed. */
  readonly roleId?: string;
  /** The whole tenant (created, or its license pool changed): any user's access. */
  readonly tenantWide?: boolean;
}

/** Whether this module knows how to undo rows of `operation`. */
export function canUndo(operation: string): boolean {
  return (
    DECISION_NEUTRAL.has(operation) ||
    ROLE_OPERATIONS.has(operation) ||
    USER_OPERATIONS.has(operation) ||
    operation === "SetLicenseSeats" ||
    operation === "CreateTenant"
  );
}

/** Whether rows of `operation` are about one role or one user (their states are whole). */
export function touchedKind(operation: string): "role" | "user" | undefined {
  if (ROLE_OPERATIONS.has(operation)) return "role";
  if (USER_OPERATIONS.has(operation)) return "user";
  return undefined;
}

/** What an audit row touched (nothing, for the decision-neutral operations). */
export function touchedBy(row: AuditRow): Touched {
  if (ROLE_OPERATIONS.has(row.operation)) {
    const state = (parse<RoleState>(row.before) ?? parse<RoleState>(row.after))!;
    return { roleId: state.id };
  }
  if (USER_OPERATIONS.has(row.operation)) {
    const state = (parse<UserState>(row.before) ?? parse<UserState>(row.after))!;
    return { userId: state.id };
  }
  if (row.operation === "SetLicenseSeats" || row.operation === "CreateTenant") return { tenantWide: true };
  return {};
}

function parse<T>(json: string | null): T | null {
  return json === null ? null : (JSON.parse(json) as T);
}

/** A role as the audit log records it, as the compiler takes it. */
export function toRoleRecord(r: RoleState): RoleRecord {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    basedOn: r.basedOn,
    defaultOf:
      r.defaultSystem === null || r.defaultRole === null
        ? null
        : { system: r.defaultSystem, roleId: r.defaultRole },
    grants: r.grants,
    licenseIds: r.licenseIds,
  };
}

const byId = (a: UserRecord, b: UserRecord) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function toUserRecord(u: UserState): UserRecord {
  return { id: u.id, displayName: u.displayName, active: u.active, roleIds: u.roleIds };
}

/** A tenant's policy being walked back, one audit row at a time (newest first). */
export class TenantRewind {
  private name: string;
  private systems: readonly string[];
  private readonly seats: Map<string, number>;
  /**
   * The users the walk has changed (null: did not exist then). The others are as in `base`, the
   * users in columns as the walk started (when it started from columns: no record per user).
   */
  private readonly users: Map<string, UserRecord | null>;
  private base: { readonly columns: UserColumns; ids?: string[]; index?: Map<string, number> } | undefined;
  private readonly roles: Map<string, RoleRecord>;
  /** False once the walk has gone back past the tenant's creation. */
  private exists: boolean;
  /**
   * The tenant's own systems: as now at every revision the walk reaches (it stops at a PutSystem
   * or DeleteSystem, `canUndo`), so the past is decided on the catalog it was decided on then.
   */
  private readonly own: Pick<TenantPolicy, "customSystems">;

  /** Starts from the tenant as it is now (`undefined`: it does not exist now). */
  constructor(
    readonly tenantId: string,
    now: TenantPolicy | undefined,
  ) {
    this.exists = now !== undefined;
    this.name = now?.name ?? "";
    this.systems = now?.systems ?? [];
    this.seats = new Map(now?.licenseSeats ?? []);
    this.users = new Map(now?.userColumns === undefined ? (now?.users ?? []).map((u) => [u.id, u]) : []);
    this.base = now?.userColumns === undefined ? undefined : { columns: now.userColumns };
    this.roles = new Map((now?.roles ?? []).map((r) => [r.id, r]));
    this.own = now?.customSystems === undefined ? {} : { customSystems: now.customSystems };
  }

  /**
   * Undoes one audit row of this tenant (the newest not yet undone). Throws for an operation
   * `canUndo` refuses; callers check first.
   */
  undo(row: AuditRow): void {
    const { operation } = row;
    if (DECISION_NEUTRAL.has(operation)) return;
    if (ROLE_OPERATIONS.has(operation)) {
      const before = parse<RoleState>(row.before);
      // Only a creation has no `before`; its `after` (a large row) is parsed only then.
      if (before === null) this.roles.delete(parse<RoleState>(row.after)!.id);
      // A deleted role comes back last: its place among the roles is not recorded (it had no holders).
      else this.roles.set(before.id, toRoleRecord(before));
      return;
    }
    if (USER_OPERATIONS.has(operation)) {
      const before = parse<UserState>(row.before);
      if (before === null) this.users.set(parse<UserState>(row.after)!.id, null);
      else this.users.set(before.id, toUserRecord(before));
      return;
    }
    if (operation === "SetLicenseSeats") {
      const before = parse<{ licenseId: string; seats: number | null }>(row.before)!;
      if (before.seats === null) this.seats.delete(before.licenseId);
      else this.seats.set(before.licenseId, before.seats);
      return;
    }
    if (operation === "CreateTenant") {
      this.exists = false;
      this.users.clear();
      this.base = undefined;
      this.roles.clear();
      this.seats.clear();
      return;
    }
    throw new Error(`cannot undo audited operation '${operation}'`);
  }

  /** The user as the walk stands, if they exist then. */
  user(userId: string): UserRecord | undefined {
    if (!this.exists) return undefined;
    const changed = this.users.get(userId);
    if (changed !== undefined || this.base === undefined) return changed ?? undefined;
    const u = this.baseIndex().get(userId);
    return u === undefined ? undefined : userRecordAt(this.base.columns, u);
  }

  /** The ids of `base`'s users, in row order (decoded once). */
  private baseIds(): string[] {
    const base = this.base!;
    base.ids ??= decodeUserIds(base.columns);
    return base.ids;
  }

  private baseIndex(): Map<string, number> {
    const base = this.base!;
    base.index ??= new Map(this.baseIds().map((id, u) => [id, u]));
    return base.index;
  }

  /** The users as the walk stands, by id: records, or columns when the walk started from columns. */
  private usersNow(): Pick<TenantPolicy, "users" | "userColumns"> {
    const changed: UserRecord[] = [];
    for (const u of this.users.values()) if (u !== null) changed.push(u);
    changed.sort(byId);
    if (this.base === undefined) return { users: changed };
    // Merge the unchanged rows (in id order, as the store lists them) with the changed records.
    const { columns } = this.base;
    const ids = this.baseIds();
    const out = new UserColumnsBuilder(columns.roleTable);
    let c = 0;
    for (let u = 0; u < columns.count; u++) {
      const id = ids[u]!;
      if (this.users.has(id)) continue;
      while (c < changed.length && changed[c]!.id < id) out.addRecord(changed[c++]!);
      out.copyUser(columns, u);
    }
    while (c < changed.length) out.addRecord(changed[c++]!);
    return { users: [], userColumns: out.build() };
  }

  /** The role as the walk stands, if it exists then. */
  role(roleId: string): RoleRecord | undefined {
    return this.exists ? this.roles.get(roleId) : undefined;
  }

  /** The tenant's policy as the walk stands (`undefined` before its creation). */
  policy(): TenantPolicy | undefined {
    if (!this.exists) return undefined;
    return {
      id: this.tenantId,
      name: this.name,
      systems: this.systems,
      licenseSeats: new Map(this.seats),
      // The store lists users by id; roles in creation order, which a Map's insertion order keeps.
      ...this.usersNow(),
      roles: [...this.roles.values()],
      ...this.own,
    };
  }

  /**
   * The part of the tenant that decides `userId`'s access: the user and the roles they hold
   * (compiling it is cheap whatever the tenant's size). `undefined` before the tenant existed.
   */
  policyOf(userId: string): TenantPolicy | undefined {
    if (!this.exists) return undefined;
    const user = this.user(userId);
    const roles = (user?.roleIds ?? []).flatMap((id) => {
      const role = this.roles.get(id);
      return role === undefined ? [] : [role];
    });
    return {
      id: this.tenantId,
      name: this.name,
      systems: this.systems,
      licenseSeats: new Map(this.seats),
      users: user === undefined ? [] : [user],
      roles,
      ...this.own,
    };
  }
}
