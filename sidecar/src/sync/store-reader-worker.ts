/**
 * The sync worker thread: polls the store with a StoreReader and posts what changed to the main
 * thread. SQLite calls are synchronous and a locked WAL can hold one for seconds; here that
 * delays only this thread, never the event loop answering checks.
 *
 * Messages in:  { kind: "resync" } — forget what was read; the next read is full.
 *               { kind: "poll" } — poll now rather than at the next tick (the copy was just written).
 * Messages out: { kind: "read", read: StoreRead } | { kind: "ok" } (nothing new; at most one per
 *               quietReportMs) | { kind: "error", message }
 *               | { kind: "reading" } (a long read is under way: not a stall).
 */
import { parentPort, workerData } from "node:worker_threads";
import { type KnownState, StoreBusyError, StoreReader } from "./store-reader.js";

/** What the main thread passes to the worker. */
export interface StoreReaderWorkerData {
  readonly dbPath: string;
  readonly pollIntervalMs: number;
  /**
   * A poll that found nothing new is reported ("ok") only when nothing was posted for this
   * long: the main thread needs a heartbeat, not one wake-up per 20 ms poll.
   */
  readonly quietReportMs: number;
  /** What the main thread serves already (reading moved here from it): the first read is of changes since. */
  readonly known?: KnownState;
}

/**
 * After this long with the WAL index mid-rewrite, read through SQLite anyway: a writer that died
 * between the header's two copies leaves it so until some connection repairs it. Only here, where
 * waiting on another process's locks meanwhile holds up no check.
 */
const REPAIR_UNSETTLED_AFTER_MS = 1_000;

const port = parentPort;
if (port) {
  const data = workerData as StoreReaderWorkerData;
  const { dbPath, pollIntervalMs, quietReportMs } = data;
  let lastPost = 0;
  const post = (message: object) => {
    lastPost = performance.now();
    port.postMessage(message);
  };
  const reader = new StoreReader(
    dbPath,
    () => post({ kind: "reading" }),
    undefined,
    REPAIR_UNSETTLED_AFTER_MS,
  );
  let known: KnownState | undefined = data.known;
  let timer: NodeJS.Timeout | undefined;
  port.on("message", (message: { kind: string }) => {
    if (message.kind === "resync") {
      known = undefined;
      reader.forget();
    } else if (message.kind === "poll") {
      // Polls are synchronous: this runs between two, never inside one.
      clearTimeout(timer);
      poll();
    }
  });
  const poll = () => {
    try {
      // A full read posts its parts as it goes: the main thread compiles one while this reads the next.
      const read = reader.read(known, (part) => post({ kind: "read", read: part }));
      if (read === undefined) {
        if (performance.now() - lastPost >= quietReportMs) post({ kind: "ok" });
      } else {
        if (read.source) known = { revision: read.source.revision, databaseId: read.source.databaseId };
        post({ kind: "read", read });
      }
    } catch (err) {
      // A busy WAL index keeps the connection (and what the reader holds): the next poll retries.
      if (!(err instanceof StoreBusyError)) reader.close();
      post({ kind: "error", message: err instanceof Error ? err.message : String(err) });
    }
    timer = setTimeout(poll, pollIntervalMs);
  };
  poll();
}
