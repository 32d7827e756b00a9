/**
 * A real PostgreSQL 15 server for tests (the Debian package, never a mock): `initdb` into a temp
 * folder (once per machine, then copied), `pg_ctl start` on a unix-socket folder and a free loopback port, stopped by `pg_ctl` (or
 * by PID) at the end. PostgreSQL refuses to run as root, so as root its binaries run as the
 * `postgres` user the package creates, on a folder that user owns.
 *
 * One server per test file (`usePostgres()` from use-postgres.ts in a suite, or `startPostgres()`
 * and `destroy()` in a bench or script: this file does not need vitest); a fresh database per
 * test is cheap (`createDatabase`, ~0.1 s). `replicaOf` starts a physical streaming replica of a
 * running server instead (`pg_basebackup -R`): a read-only hot standby that receives no NOTIFY.
 */
import { execFile } from "node:child_process";
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/** Where Debian's PostgreSQL 15 keeps its binaries; `ROLECALL_PG_BIN` points elsewhere. */
const PG_BIN = process.env.ROLECALL_PG_BIN ?? "/usr/lib/postgresql/15/bin";

/** The superuser `initdb` creates; tests connect as it (trust authentication, loopback only). */
const SUPERUSER = "rolecall";

/** How `stop` shuts the server down: `fast` rolls back and disconnects clients; `immediate` is a crash. */
export type PostgresStopMode = "fast" | "immediate";

/** Options of `startPostgres`. */
export interface PostgresOptions {
  /** Extra `-c name=value` server settings. Default none. */
  readonly settings?: Readonly<Record<string, string | number>>;
  /** Make commits survive a machine crash (fsync on). Default `false`: faster, and a test machine's crash ends the test anyway. */
  readonly durable?: boolean;
  /**
   * Start a streaming replica of this running server (`pg_basebackup -R -X stream`, a hot
   * standby on its own port) instead of a fresh cluster. Default none.
   */
  readonly replicaOf?: PostgresServer;
  /**
   * Lines appended to `pg_hba.conf` (e.g. `host all all 10.0.0.0/24 trust` for clients on another
   * interface, with `settings.listen_addresses`). Default none: loopback only.
   */
  readonly hba?: readonly string[];
  /**
   * Keep the server's data in this folder (created when missing, reused when it holds a data
   * folder already, never removed): a bench keeps a database that takes minutes to load across
   * runs. Default: a new temp folder, removed on `destroy()`.
   */
  readonly keptFolder?: string;
}

/** A running test server. */
export interface PostgresServer {
  /** `postgresql://rolecall@127.0.0.1:PORT/postgres`. */
  readonly url: string;
  readonly port: number;
  /** The folder holding the data folder, the log and the unix socket. */
  readonly dir: string;
  /** The postmaster's PID (changes after `start`). */
  readonly pid: number;
  /**
   * Creates a database (empty, or a copy of `template`, which must have no connections) and
   * returns its URL. A fresh one per test costs ~0.1 s.
   */
  createDatabase(name: string, options?: { readonly template?: string }): Promise<string>;
  /** Drops database `name`, disconnecting whoever is still connected to it. */
  dropDatabase(name: string): Promise<void>;
  /** The URL of database `name` on this server. */
  urlOf(name: string): string;
  /** Stops the server (`fast` by default), keeping its data for `start`. */
  stop(options?: { readonly mode?: PostgresStopMode }): Promise<void>;
  /** Starts the server again on the same port, with the same data. */
  start(): Promise<void>;
  /** SIGSTOPs the postmaster and every backend: the server hangs without closing a socket. */
  pause(): void;
  /** SIGCONTs what `pause` stopped. */
  resume(): void;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Stops the server and removes its folder. Safe to call twice. */
  destroy(): Promise<void>;
}

function bin(name: string): string {
  return join(PG_BIN, name);
}

function assertInstalled(): void {
  if (!existsSync(bin("initdb")) || !existsSync(bin("pg_ctl"))) {
    throw new Error(
      `PostgreSQL 15 is not installed (no ${bin("initdb")}): run \`apt-get install postgresql\` ` +
        "(or set ROLECALL_PG_BIN to a folder holding initdb and pg_ctl)",
    );
  }
}

/** As root, PostgreSQL's binaries run as `postgres`; as anyone else, as themselves. */
function asServerUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error("running as root but there is no 'postgres' user: run `apt-get install postgresql`");
  }
  return { uid: Number(uid), gid: Number(gid) };
}

async function pgCommand(name: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const [file, argv] =
    asServerUser() === null ? [bin(name), args] : ["runuser", ["-u", "postgres", "--", bin(name), ...args]];
  try {
    // cwd "/": the server user may not enter the caller's folder.
    const { stdout } = await run(file, argv, { timeout: timeoutMs, cwd: "/" });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${name} ${args.join(" ")} failed: ${err.stderr || err.message}`);
  }
}

/** The arguments every data folder is made with (trust on loopback only: see `listen_addresses`). */
const INITDB_ARGS = ["-A", "trust", "-U", SUPERUSER, "-N", "-E", "UTF8"] as const;

/**
 * A new data folder at `data`: a copy of one made by `initdb` once per machine (per user and
 * binaries folder), which saves each server the seconds `initdb` takes. Test files starting
 * together race to make it; the first rename wins and the others use it.
 */
async function freshDataFolder(data: string, owner: { uid: number; gid: number } | null): Promise<void> {
  const key = `${process.getuid?.() ?? "user"}-${PG_BIN.replace(/[^A-Za-z0-9]+/g, "_")}`;
  const template = join(tmpdir(), `rolecall-pg-template-${key}`);
  if (!existsSync(join(template, "PG_VERSION"))) {
    const building = mkdtempSync(join(tmpdir(), "rolecall-pg-template-building-"));
    if (owner !== null) chownSync(building, owner.uid, owner.gid);
    try {
      await pgCommand("initdb", ["-D", join(building, "data"), ...INITDB_ARGS]);
      renameSync(join(building, "data"), template);
    } catch (e) {
      if (!existsSync(join(template, "PG_VERSION"))) throw e; // not another file's win
    } finally {
      rmSync(building, { recursive: true, force: true });
    }
  }
  // -a keeps the server user's ownership (as root) and the folder's 0700 mode.
  await run("cp", ["-a", template, data]);
}

/** A loopback port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The PIDs of `pid`'s children, read from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4 (ppid) follows the parenthesised command name, which may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** Starts a fresh PostgreSQL server; call `destroy()` (or use `usePostgres`) to stop it. */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  assertInstalled();
  const owner = asServerUser();
  const kept = options.keptFolder;
  if (kept !== undefined) mkdirSync(kept, { recursive: true });
  const dir = kept ?? mkdtempSync(join(tmpdir(), "rolecall-pg-"));
  if (owner !== null) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, "data");
  const reused = kept !== undefined && existsSync(join(data, "PG_VERSION"));
  /** Removes the folder, unless it is kept. */
  const removeDir = (): void => {
    if (kept === undefined) rmSync(dir, { recursive: true, force: true });
  };
  const logFile = join(dir, "log");
  let pid = 0;
  let port = 0;
  let destroyed = false;
  const paused: number[] = [];

  const settings: Record<string, string | number> = {
    listen_addresses: "127.0.0.1",
    // fsync off survives a crash of the server (the fault tests' `immediate` stop), not of the
    // machine; synchronous_commit stays on, or an immediate stop would lose acknowledged commits.
    ...(options.durable === true ? {} : { fsync: "off", full_page_writes: "off" }),
    ...options.settings,
  };
  const serverArgs = (): string =>
    [`-k ${dir}`, `-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(" ");
  const readLog = (): string => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");

  const start = async (): Promise<void> => {
    try {
      await pgCommand("pg_ctl", ["-D", data, "-w", "-t", "30", "-l", logFile, "-o", serverArgs(), "start"]);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nserver log:\n${readLog().slice(-2000)}`);
    }
    pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  };

  const killByPid = async (): Promise<void> => {
    if (pid === 0 || !isAlive(pid)) return;
    // SIGQUIT is PostgreSQL's immediate shutdown; SIGKILL only if even that does not end it.
    process.kill(pid, "SIGQUIT");
    for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  };

  const resume = (): void => {
    for (const p of paused.splice(0)) {
      try {
        process.kill(p, "SIGCONT");
      } catch {
        // Ended meanwhile.
      }
    }
  };

  const stop = async ({ mode = "fast" }: { readonly mode?: PostgresStopMode } = {}): Promise<void> => {
    resume();
    try {
      await pgCommand("pg_ctl", ["-D", data, "-w", "-t", "30", "-m", mode, "stop"]);
    } catch {
      await killByPid();
    }
  };

  // A test process that dies without its afterAll must not leave a server behind.
  const onExit = (): void => {
    if (pid !== 0 && isAlive(pid)) {
      try {
        process.kill(pid, "SIGCONT");
        process.kill(pid, "SIGQUIT");
      } catch {
        // Already gone.
      }
    }
    removeDir();
  };

  try {
    if (reused) {
      // A kept server killed without pg_ctl (a killed bench) leaves its pid file behind.
      const pidFile = join(data, "postmaster.pid");
      const stale = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : 0;
      if (stale > 0 && isAlive(stale)) throw new Error(`${data} is in use by PostgreSQL (PID ${stale})`);
      rmSync(pidFile, { force: true });
    } else if (options.replicaOf === undefined) {
      await freshDataFolder(data, owner);
    } else {
      // -R writes standby.signal and primary_conninfo: the copy starts as a hot standby.
      const from = `host=127.0.0.1 port=${options.replicaOf.port} user=${SUPERUSER}`;
      await pgCommand("pg_basebackup", ["-D", data, "-d", from, "-R", "-X", "stream", "-c", "fast", "-N"]);
    }
    if (!reused && options.hba !== undefined && options.hba.length > 0) {
      // As root the file stays the server user's: appending keeps its owner and mode.
      appendFileSync(join(data, "pg_hba.conf"), `${options.hba.join("\n")}\n`);
    }
    // Another process may take the port between our probe and the server's bind: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await start();
        break;
      } catch (e) {
        if (attempt >= 3 || !/could not bind|Address already in use/i.test((e as Error).message)) throw e;
      }
    }
  } catch (e) {
    await killByPid();
    removeDir();
    throw e;
  }
  process.once("exit", onExit);

  const urlOf = (name: string): string =>
    `postgresql://${SUPERUSER}@127.0.0.1:${port}/${encodeURIComponent(name)}`;

  const adminQuery = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: urlOf("postgres") });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  const server: PostgresServer = {
    get url() {
      return urlOf("postgres");
    },
    get port() {
      return port;
    },
    dir,
    get pid() {
      return pid;
    },
    urlOf,
    async createDatabase(name, { template } = {}) {
      const from = template === undefined ? "" : ` TEMPLATE ${pg.escapeIdentifier(template)}`;
      await adminQuery(`CREATE DATABASE ${pg.escapeIdentifier(name)}${from}`);
      return urlOf(name);
    },
    async dropDatabase(name) {
      await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    },
    stop,
    start,
    pause() {
      for (const p of [pid, ...childrenOf(pid)]) {
        try {
          process.kill(p, "SIGSTOP");
          paused.push(p);
        } catch (err) {
          // A backend that ended between the listing and the signal has nothing left to pause.
          if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
        }
      }
    },
    resume,
    log: readLog,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      process.removeListener("exit", onExit);
      await stop({ mode: "fast" });
      removeDir();
    },
  };
  return server;
}
