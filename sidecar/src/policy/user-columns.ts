/**
 * A tenant's users in columns: ids and display names as UTF-8 bytes with offsets, flags and role
 * references in typed arrays, and no object per user. At a million users an object per user (its
 * record, two strings and a role array) cost more than everything else the sidecar holds, and
 * cloning them from the sync worker to the main thread took seconds. Columns built by the sync
 * worker sit in SharedArrayBuffers: posting them shares the memory instead of copying it, and
 * both threads keep the one copy. A built UserColumns is never written again.
 */
import type { UserRecord } from "./policy-source.js";

/** Users in the store's order (by id, UTF-8 byte order); user `u` is row `u` of every column. */
export interface UserColumns {
  readonly count: number;
  /** The ids' UTF-8 bytes, back to back: user `u`'s are `idBytes[idStart[u] .. idStart[u + 1])`. */
  readonly idBytes: Uint8Array;
  readonly idStart: Int32Array;
  /** The display names' UTF-8 bytes, laid out like the ids. */
  readonly nameBytes: Uint8Array;
  readonly nameStart: Int32Array;
  /** 1 when the user is active. */
  readonly active: Uint8Array;
  /** CSR offsets into `roleRefs`: user `u`'s roles, in the order assigned. */
  readonly roleStart: Int32Array;
  /** Indices into `roleTable`. */
  readonly roleRefs: Int32Array;
  /** The role ids the references name (a role id the tenant no longer has may appear: the compiler drops it). */
  readonly roleTable: readonly string[];
}

const EMPTY_TABLE: readonly string[] = Object.freeze([]);

function bytesView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** User `u`'s id. */
export function userIdAt(columns: UserColumns, u: number): string {
  return bytesView(columns.idBytes).toString("utf8", columns.idStart[u], columns.idStart[u + 1]);
}

/** User `u`'s display name. */
export function userNameAt(columns: UserColumns, u: number): string {
  return bytesView(columns.nameBytes).toString("utf8", columns.nameStart[u], columns.nameStart[u + 1]);
}

/** Every id, in row order: one decode of the whole column, cut into strings. */
export function decodeUserIds(columns: UserColumns): string[] {
  const { count, idStart } = columns;
  const view = bytesView(columns.idBytes);
  const ids: string[] = new Array(count);
  // Pure ASCII (the usual case): byte offsets are character offsets, so one decode serves all.
  if (view.every((b) => b < 0x80)) {
    const all = view.toString("latin1");
    for (let u = 0; u < count; u++) ids[u] = all.slice(idStart[u], idStart[u + 1]);
  } else {
    for (let u = 0; u < count; u++) ids[u] = view.toString("utf8", idStart[u], idStart[u + 1]);
  }
  return ids;
}

/** User `u` as a record (tests, tools and comparisons; the engine never builds these). */
export function userRecordAt(columns: UserColumns, u: number): UserRecord {
  const roleIds: string[] = [];
  for (let i = columns.roleStart[u]!; i < columns.roleStart[u + 1]!; i++)
    roleIds.push(columns.roleTable[columns.roleRefs[i]!]!);
  return {
    id: userIdAt(columns, u),
    displayName: userNameAt(columns, u),
    active: columns.active[u] === 1,
    roleIds,
  };
}

/** Every user as a record. */
export function userRecordsOf(columns: UserColumns): UserRecord[] {
  return Array.from({ length: columns.count }, (_, u) => userRecordAt(columns, u));
}

/** A growable byte column. */
class ByteColumn {
  bytes: Buffer = Buffer.allocUnsafeSlow(1024);
  length = 0;

  write(value: string): void {
    // At most 3 bytes per UTF-16 unit.
    const need = this.length + value.length * 3;
    if (need > this.bytes.length) this.grow(need);
    this.length += this.bytes.write(value, this.length, "utf8");
  }

  copy(from: Uint8Array, start: number, end: number): void {
    const need = this.length + (end - start);
    if (need > this.bytes.length) this.grow(need);
    this.bytes.set(from.subarray(start, end), this.length);
    this.length = need;
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(need, this.bytes.length * 2));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }
}

/** A growable Int32 column. */
class IntColumn {
  values = new Int32Array(256);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const next = new Int32Array(this.values.length * 2);
      next.set(this.values);
      this.values = next;
    }
    this.values[this.length++] = value;
  }
}

/** Where built columns live: SharedArrayBuffers (posted between threads without a copy) or plain ones. */
export type ColumnMemory = "shared" | "local";

function sealInts(source: Int32Array, length: number, memory: ColumnMemory): Int32Array {
  const out = new Int32Array(
    memory === "shared" ? new SharedArrayBuffer(length * 4) : new ArrayBuffer(length * 4),
  );
  out.set(source.subarray(0, length));
  return out;
}

function sealBytes(source: Uint8Array, length: number, memory: ColumnMemory): Uint8Array {
  const out = new Uint8Array(memory === "shared" ? new SharedArrayBuffer(length) : new ArrayBuffer(length));
  out.set(source.subarray(0, length));
  return out;
}

/** Builds UserColumns a user at a time, in the order the users are added. */
export class UserColumnsBuilder {
  readonly #ids = new ByteColumn();
  readonly #names = new ByteColumn();
  readonly #idStart = new IntColumn();
  readonly #nameStart = new IntColumn();
  readonly #active = new IntColumn();
  readonly #roleStart = new IntColumn();
  readonly #roleRefs = new IntColumn();
  readonly #table: string[];
  readonly #tableIndex: Map<string, number>;

  /** @param roleTable role ids to start the table with (usually the tenant's roles, in order) */
  constructor(roleTable: readonly string[] = EMPTY_TABLE) {
    this.#table = [...roleTable];
    this.#tableIndex = new Map(this.#table.map((id, i) => [id, i]));
    this.#idStart.push(0);
    this.#nameStart.push(0);
    this.#roleStart.push(0);
  }

  get count(): number {
    return this.#active.length;
  }

  /** Starts a user; its roles follow with `addRole`. */
  addUser(id: string, displayName: string, active: boolean): void {
    this.#ids.write(id);
    this.#idStart.push(this.#ids.length);
    this.#names.write(displayName);
    this.#nameStart.push(this.#names.length);
    this.#active.push(active ? 1 : 0);
    this.#roleStart.push(this.#roleRefs.length);
  }

  /** Gives the last added user one more role. */
  addRole(roleId: string): void {
    let ref = this.#tableIndex.get(roleId);
    if (ref === undefined) {
      ref = this.#table.length;
      this.#table.push(roleId);
      this.#tableIndex.set(roleId, ref);
    }
    this.#roleRefs.push(ref);
    this.#roleStart.values[this.#roleStart.length - 1] = this.#roleRefs.length;
  }

  /** Copies user `u` of `from` as it is. */
  copyUser(from: UserColumns, u: number): void {
    this.#ids.copy(from.idBytes, from.idStart[u]!, from.idStart[u + 1]!);
    this.#idStart.push(this.#ids.length);
    this.#names.copy(from.nameBytes, from.nameStart[u]!, from.nameStart[u + 1]!);
    this.#nameStart.push(this.#names.length);
    this.#active.push(from.active[u]!);
    this.#roleStart.push(this.#roleRefs.length);
    for (let i = from.roleStart[u]!; i < from.roleStart[u + 1]!; i++)
      this.addRole(from.roleTable[from.roleRefs[i]!]!);
  }

  /** Adds a user from a record. */
  addRecord(user: UserRecord): void {
    this.addUser(user.id, user.displayName, user.active);
    for (const r of user.roleIds) this.addRole(r);
  }

  /** The finished columns, exactly sized, in `memory`. */
  build(memory: ColumnMemory = "local"): UserColumns {
    const n = this.count;
    const active = new Uint8Array(memory === "shared" ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
    for (let u = 0; u < n; u++) active[u] = this.#active.values[u]!;
    return Object.freeze({
      count: n,
      idBytes: sealBytes(this.#ids.bytes, this.#ids.length, memory),
      idStart: sealInts(this.#idStart.values, n + 1, memory),
      nameBytes: sealBytes(this.#names.bytes, this.#names.length, memory),
      nameStart: sealInts(this.#nameStart.values, n + 1, memory),
      active,
      roleStart: sealInts(this.#roleStart.values, n + 1, memory),
      roleRefs: sealInts(this.#roleRefs.values, this.#roleRefs.length, memory),
      roleTable: Object.freeze([...this.#table]),
    });
  }
}

/** Columns of user records (compiling a source that carries records). */
export function userColumnsOf(users: readonly UserRecord[], memory: ColumnMemory = "local"): UserColumns {
  const builder = new UserColumnsBuilder();
  for (const user of users) builder.addRecord(user);
  return builder.build(memory);
}
