/**
 * The sync worker thread: polls the store with a StoreReader and posts what changed to the main
 * thread. SQLite calls are synchronous and a locked WAL can hold one for seconds; here that
 * delays only this thread, never the event loop answering checks.
 *
 * Messages in:  { kind: "resync" } — forget what was read; the next read is full.
 *               { kind: "poll" } — poll now rather than at the next tick (the copy was just written).
 * Messages out: { kind: "read", read: StoreRead } | { kind: "ok" } | { kind: "error", message }
 *               | { kind: "reading" } (a long read is under way: not a stall).
 */
import { parentPort, workerData } from "node:worker_threads";
import { type KnownState, StoreReader } from "./store-reader.js";

/** What the main thread passes to the worker. */
export interface StoreReaderWorkerData {
  readonly dbPath: string;
  readonly pollIntervalMs: number;
}

const port = parentPort;
if (port) {
  const { dbPath, pollIntervalMs } = workerData as StoreReaderWorkerData;
  const reader = new StoreReader(dbPath, () => port.postMessage({ kind: "reading" }));
  let known: KnownState | undefined;
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
      const read = reader.read(known, (part) => port.postMessage({ kind: "read", read: part }));
      if (read === undefined) port.postMessage({ kind: "ok" });
      else {
        if (read.source) known = { revision: read.source.revision, databaseId: read.source.databaseId };
        port.postMessage({ kind: "read", read });
      }
    } catch (err) {
      reader.close();
      port.postMessage({ kind: "error", message: err instanceof Error ? err.message : String(err) });
    }
    timer = setTimeout(poll, pollIntervalMs);
  };
  poll();
}
