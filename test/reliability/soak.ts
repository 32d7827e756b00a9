/**
 * Soak (issue 8, item 8): checks at a steady rate against the real sidecar (a child process,
 * stock grpc-js client) with a policy change every second through the sidecar's own
 * AdminService (its read-write connection, as in production), for a fixed time. Sampled every
 * 5 s: the sidecar's resident memory (VmRSS from /proc/<pid>/status), the window's p99 latency,
 * the WAL file's size. Passes when
 * - resident memory never exceeds the baseline window's (the first minute's) peak + 10 %,
 * - every later minute's p99 stays within 1.5x the baseline's,
 * - the WAL stays bounded: never above 6 MiB. SQLite's auto-checkpoint (1,000 pages of 4 KiB)
 *   resets it and the file is then reused, not grown: it plateaus near 4 MiB (measured: 4,048 KiB
 *   from ~130 s on at one change a second, ~27 KiB per change), where without checkpoints ten
 *   minutes of changes would take it past 13 MiB,
 * - zero errors, and every answer about the flipped permission matches the committed state at
 *   its revision.
 *
 *   npx tsx test/reliability/soak.ts --seconds 600 [--rate 2000] [--json out.json]
 *
 * (`npm run build` first: it runs bin/rolecall.js.) test/reliability/soak.test.ts runs a short
 * variant inside `npm test`.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { grpcClients } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";
import { call, fileSize, metric, paced, quantile, rssBytes, sleep, type WireDecision } from "./support.js";

/** Options of a soak run. */
export interface SoakOptions {
  readonly seconds: number;
  readonly rate: number;
  /** The baseline window ("the first minute"). Default min(60, seconds / 4). */
  readonly baselineSeconds?: number;
  /** One policy change per this many ms. Default 1,000. */
  readonly changeEveryMs?: number;
  readonly log?: (line: string) => void;
}

/** One 5-second sample. */
export interface SoakSample {
  readonly t: number;
  readonly rssMiB: number;
  /** The main thread's V8 heap in use and reserved (from /metrics): tells GC swings from growth. */
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly walKiB: number;
  readonly p99Ms: number;
  readonly checks: number;
}

/** What a soak run measured and concluded. */
export interface SoakResult {
  readonly seconds: number;
  readonly rate: number;
  readonly checks: number;
  readonly skipped: number;
  readonly changes: number;
  readonly errors: number;
  readonly wrong: number;
  readonly baselineRssMiB: number;
  readonly maxRssAfterBaselineMiB: number;
  readonly baselineP99Ms: number;
  readonly worstLaterMinuteP99Ms: number;
  readonly walMaxKiB: number;
  readonly walAtBaselineKiB: number;
  readonly walEndKiB: number;
  readonly finalRevision: number;
  readonly samples: readonly SoakSample[];
  readonly failures: readonly string[];
}

/** The WAL bound: the auto-checkpoint threshold (1,000 pages x 4 KiB) plus room for the last transactions. */
export const WAL_BOUND_KIB = 6 * 1024;
const PERMISSION = "cxengage/CONTACTS_UPDATE";
const USERS = ["alice", "bob", "carol", "dave", "erin", "lena", "nobody"];
const PERMISSIONS = [
  "cxengage/CONTACTS_READ",
  "cxengage/CONTACTS_UPDATE",
  "calabrio-one/view-analytics",
  "calabrio-one/view-contacts",
  "maxcontact/access-chat",
  "zoom-contact-center/RptWallboard:Read",
];

function unaryAdmin<T>(client: grpc.Client, method: string, req: object, token: string): Promise<T> {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!;
  return new Promise((resolve, reject) =>
    fn.call(client, req, metadata, { deadline: Date.now() + 5_000 }, (err: Error | null, res: T) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

/** Runs a soak against a fresh sidecar and judges it. Never throws on a failed criterion: see `failures`. */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const baselineSeconds = o.baselineSeconds ?? Math.min(60, o.seconds / 4);
  const changeEveryMs = o.changeEveryMs ?? 1_000;
  const sidecar: SidecarProcess = await startSidecarProcess();
  const clients = grpcClients(sidecar.grpcAddress);
  const pid = sidecar.child.pid!;
  const walPath = `${sidecar.dbPath}-wal`;
  try {
    const roles = await unaryAdmin<{ roles: { role_id: string; name: string }[] }>(
      clients.admin,
      "ListRoles",
      { tenant_id: "demo" },
      sidecar.adminToken,
    );
    const roleId = roles.roles.find((r) => r.name === "Custom Agent")!.role_id;
    const daveAt = new Map<number, boolean>();
    const first = await call<WireDecision>(clients.policy, "CheckPermission", {
      tenant_id: "demo",
      user_id: "dave",
      permission: PERMISSION,
    });
    if (!first.ok) throw first.err;
    daveAt.set(Number(first.res.revision), first.res.allowed);
    let finalRevision = Number(first.res.revision);

    // One change a second: grant, then revoke, dave's missing permission.
    let changes = 0;
    let writeErrors = 0;
    let stop = false;
    const writer = (async () => {
      let on = !first.res.allowed;
      const end = Date.now() + o.seconds * 1000 + 60_000;
      while (!stop && Date.now() < end) {
        const res = await unaryAdmin<{ revision: string }>(
          clients.admin,
          on ? "GrantPermissions" : "RevokePermissions",
          { tenant_id: "demo", role_id: roleId, permissions: [PERMISSION] },
          sidecar.adminToken,
        ).catch(() => undefined);
        if (res === undefined) {
          writeErrors++;
          await sleep(changeEveryMs);
          continue;
        }
        daveAt.set(Number(res.revision), on);
        finalRevision = Number(res.revision);
        on = !on;
        changes++;
        await sleep(changeEveryMs);
      }
    })();

    // Samples every 5 s, with that window's latencies.
    let window: number[] = [];
    const minuteP99: number[] = [];
    let minute: number[] = [];
    let minuteStart = 0;
    const samples: SoakSample[] = [];
    const started = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sleep(5_000);
        if (!sampling) break;
        const t = Math.round((performance.now() - started) / 1000);
        const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
        const heap = async (name: string) =>
          mib(
            await metric(sidecar.httpUrl, `rolecall_nodejs_heap_size_${name}_bytes`).catch(() => Number.NaN),
          );
        const sample = {
          t,
          rssMiB: mib(rssBytes(pid)),
          heapUsedMiB: await heap("used"),
          heapTotalMiB: await heap("total"),
          walKiB: Math.round(fileSize(walPath) / 1024),
          p99Ms: Math.round(quantile(window, 0.99) * 100) / 100,
          checks: window.length,
        };
        samples.push(sample);
        log(
          `t=${t}s rss=${sample.rssMiB}MiB heap=${sample.heapUsedMiB}/${sample.heapTotalMiB}MiB wal=${sample.walKiB}KiB p99=${sample.p99Ms}ms n=${sample.checks}`,
        );
        window = [];
        // Per-minute p99s after the baseline (shorter "minutes" in a short run).
        const span = Math.min(60, baselineSeconds);
        if (t - minuteStart >= span) {
          minuteP99.push(quantile(minute, 0.99));
          minute = [];
          minuteStart = t;
        }
      }
    })();

    let errors = 0;
    let wrong = 0;
    const errorExamples: string[] = [];
    const run = await paced({
      rate: o.rate,
      durationMs: o.seconds * 1000,
      maxInFlight: 512,
      fire: async (i) => {
        const user = USERS[i % USERS.length]!;
        const permission = i % 5 === 0 ? PERMISSION : PERMISSIONS[i % PERMISSIONS.length]!;
        const t0 = performance.now();
        const r = await call<WireDecision>(clients.policy, "CheckPermission", {
          tenant_id: "demo",
          user_id: user,
          permission,
        });
        const ms = performance.now() - t0;
        window.push(ms);
        minute.push(ms);
        if (!r.ok) {
          errors++;
          if (errorExamples.length < 3) errorExamples.push(`${r.err.code} ${r.err.details}`);
          return;
        }
        if (user === "dave" && permission === PERMISSION) {
          const want = daveAt.get(Number(r.res.revision));
          if (want !== undefined && want !== r.res.allowed) wrong++;
        }
      },
    });
    stop = true;
    sampling = false;
    await writer;
    await sampler;

    const baseline = samples.filter((s) => s.t <= baselineSeconds);
    const later = samples.filter((s) => s.t > baselineSeconds);
    const baselineRss = Math.max(...baseline.map((s) => s.rssMiB));
    const maxLaterRss = later.length > 0 ? Math.max(...later.map((s) => s.rssMiB)) : baselineRss;
    const baselineP99 = minuteP99[0] ?? Number.NaN;
    const laterP99 = minuteP99.slice(1);
    const worstLaterP99 = laterP99.length > 0 ? Math.max(...laterP99) : baselineP99;
    const walMax = Math.max(...samples.map((s) => s.walKiB));
    const walAtBaseline = baseline.at(-1)?.walKiB ?? 0;
    const walEnd = samples.at(-1)?.walKiB ?? 0;
    const failures: string[] = [];
    if (errors > 0) failures.push(`${errors} errors, e.g. ${errorExamples.join("; ")}`);
    if (writeErrors > 0) failures.push(`${writeErrors} policy changes failed`);
    if (wrong > 0) failures.push(`${wrong} answers disagreed with the committed state at their revision`);
    if (maxLaterRss > baselineRss * 1.1) {
      failures.push(
        `resident memory grew to ${maxLaterRss} MiB, over the baseline ${baselineRss} MiB + 10 %`,
      );
    }
    if (worstLaterP99 > baselineP99 * 1.5) {
      failures.push(
        `p99 ${worstLaterP99.toFixed(2)} ms over 1.5x the baseline's ${baselineP99.toFixed(2)} ms`,
      );
    }
    if (walMax > WAL_BOUND_KIB) failures.push(`WAL reached ${walMax} KiB, over ${WAL_BOUND_KIB} KiB`);
    const metricRevision = await metric(sidecar.httpUrl, "rolecall_snapshot_revision");
    if (metricRevision < finalRevision)
      failures.push(`sidecar at revision ${metricRevision}, store at ${finalRevision}`);
    if (sidecar.child.exitCode !== null) failures.push("the sidecar exited");
    return {
      seconds: o.seconds,
      rate: o.rate,
      checks: run.started,
      skipped: run.skipped,
      changes,
      errors,
      wrong,
      baselineRssMiB: baselineRss,
      maxRssAfterBaselineMiB: maxLaterRss,
      baselineP99Ms: Math.round(baselineP99 * 100) / 100,
      worstLaterMinuteP99Ms: Math.round(worstLaterP99 * 100) / 100,
      walMaxKiB: walMax,
      walAtBaselineKiB: walAtBaseline,
      walEndKiB: walEnd,
      finalRevision,
      samples,
      failures,
    };
  } finally {
    clients.close();
    await sidecar.stop();
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: process.env.ROLECALL_SOAK_SECONDS ?? "600" },
      rate: { type: "string", default: "2000" },
      json: { type: "string" },
    },
  });
  const result = await runSoak({
    seconds: Number(values.seconds),
    rate: Number(values.rate),
    log: (line) => console.log(line),
  });
  const { samples, ...summary } = result;
  console.log(JSON.stringify(summary, null, 2));
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
  console.log(result.failures.length === 0 ? "SOAK PASSED" : `SOAK FAILED:\n${result.failures.join("\n")}`);
  process.exitCode = result.failures.length === 0 ? 0 : 1;
}
