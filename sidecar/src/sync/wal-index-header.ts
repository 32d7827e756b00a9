/**
 * The header of a WAL database's index (the `-shm` file), read with plain file I/O: no SQLite
 * lock is taken or waited for, so reading it never waits on another process.
 *
 * Every commit and every restart of the WAL rewrites this header (its change counter, last frame,
 * salts and checksums), so while it stays byte for byte the same, and the database file keeps its
 * identity, nothing was committed. The store reader reads it before asking SQLite anything: an
 * unchanged store costs a 96-byte read, and a process holding the index's read locks cannot make
 * a poll wait inside SQLite, where a read transaction retries for up to ~10 s against them.
 *
 * Layout (SQLite's "WAL-index format"): two copies of a 48-byte header; a writer rewrites the
 * second, then the first. Byte 12 of each is `isInit`. Copies that differ mean a writer is
 * between the two, or a recovery is under way (or a writer died between them).
 *
 * The descriptors are never closed. SQLite holds POSIX (fcntl) locks on the `-shm` file for as
 * long as a connection is open, and closing ANY descriptor of a file drops all of the process's
 * fcntl locks on it, every thread's and connection's. So each `-shm` file is opened once per
 * thread and kept open; one that was replaced (a new inode) gets a new descriptor, the old one
 * kept too.
 */
import { fstatSync, openSync, readSync, statSync } from "node:fs";

const HEADER_BYTES = 48;
const IS_INIT_OFFSET = 12;

/** What the index header says now. */
export type WalIndexHeader =
  /** No index file (not a WAL database, or no connection has opened it yet): ask SQLite. */
  | { readonly kind: "absent" }
  /** Being rewritten or recovered: the copies differ or it is not initialised. */
  | { readonly kind: "unsettled" }
  /** Both copies equal and initialised: compare `bytes` with an earlier read. */
  | { readonly kind: "settled"; readonly bytes: Buffer };

/** This thread's open descriptor of each `-shm` path, with the inode it refers to. */
const descriptors = new Map<string, { readonly fd: number; readonly ino: number }>();

/** The descriptor of `shmPath`'s current file, or undefined when there is none. */
function descriptor(shmPath: string): number | undefined {
  let ino: number;
  try {
    ino = statSync(shmPath).ino;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const known = descriptors.get(shmPath);
  if (known?.ino === ino) return known.fd;
  const fd = openSync(shmPath, "r");
  descriptors.set(shmPath, { fd, ino: fstatSync(fd).ino });
  return fd;
}

function readOnce(shmPath: string): WalIndexHeader {
  const fd = descriptor(shmPath);
  if (fd === undefined) return { kind: "absent" };
  const bytes = Buffer.alloc(2 * HEADER_BYTES);
  if (readSync(fd, bytes, 0, bytes.length, 0) < bytes.length) return { kind: "absent" };
  const first = bytes.subarray(0, HEADER_BYTES);
  const settled = first[IS_INIT_OFFSET] === 1 && first.equals(bytes.subarray(HEADER_BYTES));
  return settled ? { kind: "settled", bytes: first } : { kind: "unsettled" };
}

/**
 * Reads the index header of the database at `dbPath`. A header caught between a writer's two
 * copies (a few nanoseconds' window) is read once more before it counts as unsettled.
 */
export function readWalIndexHeader(dbPath: string): WalIndexHeader {
  const header = readOnce(`${dbPath}-shm`);
  return header.kind === "unsettled" ? readOnce(`${dbPath}-shm`) : header;
}
