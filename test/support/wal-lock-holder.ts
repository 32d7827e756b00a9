/**
 * Another process holding a WAL database's read locks, as one stuck in WAL recovery would: POSIX
 * fcntl locks on bytes 123..127 of the `-shm` file (the five read marks), which Node cannot take
 * itself. While they are held, no SQLite connection can begin a read or a write; one that tries
 * retries inside SQLite for ~10 s. The store cannot change meanwhile.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { openSync, readSync, writeSync } from "node:fs";

const SCRIPT = `
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
for _ in range(2000):
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 123, os.SEEK_SET)
        break
    except OSError:
        time.sleep(0.001)
else:
    sys.exit(3)
print("locked", flush=True)
time.sleep(600)
`;

/** A running lock holder. */
export interface WalLockHolder {
  readonly child: ChildProcess;
  /** Kills the holder (its locks go with it) and waits for it to exit. */
  release(): Promise<void>;
}

/** Starts a process that holds `dbPath`'s WAL read locks; resolves once they are held. */
export async function holdWalReadLocks(dbPath: string, timeoutMs = 10_000): Promise<WalLockHolder> {
  const child = spawn("python3", ["-c", SCRIPT, `${dbPath}-shm`], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const release = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  while (!out.includes("locked")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await release();
      throw new Error(`the lock holder did not lock ${dbPath}-shm`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { child, release };
}

/**
 * This process's descriptor of each `-shm` file, never closed: closing any descriptor of a file
 * drops every fcntl lock the process holds on it, its SQLite connections' included.
 */
const shmDescriptors = new Map<string, number>();

/**
 * Makes the WAL index header look mid-rewrite (its two copies differ), as a writer leaves it for an
 * instant, or for good when it dies between the two; returns what puts it back. Byte 8 of the
 * second copy is its change counter.
 */
export function tearWalIndexHeader(dbPath: string): () => void {
  const path = `${dbPath}-shm`;
  let fd = shmDescriptors.get(path);
  if (fd === undefined) {
    fd = openSync(path, "r+");
    shmDescriptors.set(path, fd);
  }
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, 48 + 8);
  writeSync(fd, Buffer.from([byte[0]! ^ 0xff]), 0, 1, 48 + 8);
  return () => {
    writeSync(fd, byte, 0, 1, 48 + 8);
  };
}
