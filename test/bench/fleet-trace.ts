/**
 * Where a commit's time goes on its way to every follower (the fleet bench's `--trace`): the
 * followers run at debug level and log, with epoch-ms times, when the primary's notification
 * arrived, when the copy was written (and how long the read and the write took), and when the
 * policy was reloaded (and how long the compile took). Matched to each commit by revision, laid
 * out as a table of stages, each measured from the end of the commit.
 */

/** One commit of the bench: its revision, when it returned, when each sidecar answered it. */
export interface CommitMark {
  readonly revision: number;
  /** Epoch ms just before the write was sent. */
  readonly sentAt: number;
  /** Epoch ms when the write returned. */
  readonly at: number;
  /** Epoch ms when each sidecar (by index) first answered with the new decision. */
  readonly visibleAt: number[];
}

interface LogLine {
  readonly time: number;
  readonly msg: string;
  readonly revision?: number;
  readonly readMs?: number;
  readonly applyMs?: number;
  readonly ms?: number;
}

function parseLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of output.split("\n")) {
    if (!text.startsWith("{")) continue;
    try {
      const line = JSON.parse(text) as LogLine;
      if (typeof line.time === "number" && typeof line.msg === "string") lines.push(line);
    } catch {
      // Not a log line.
    }
  }
  return lines;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** What one sidecar did for one commit, in ms after the commit returned. */
interface Stages {
  notified: number;
  copied: number;
  readMs: number;
  applyMs: number;
  reloaded: number;
  compileMs: number;
  visible: number;
}

/** The stages of every commit on every sidecar whose log has them all. */
export function traceStages(
  commits: readonly CommitMark[],
  outputs: readonly string[],
): { perSidecar: Stages[]; lastSidecar: Stages[] } {
  const logs = outputs.map(parseLines);
  const perSidecar: Stages[] = [];
  const lastSidecar: Stages[] = [];
  for (const commit of commits) {
    let last: Stages | undefined;
    logs.forEach((lines, i) => {
      const visibleAt = commit.visibleAt[i];
      const notified = lines.find((l) => l.msg === "primary notified a commit" && l.time >= commit.sentAt);
      const copied = lines.find(
        (l) => l.msg === "copied from the primary" && (l.revision ?? 0) >= commit.revision,
      );
      const reloaded = lines.find((l) => l.msg === "policy reloaded" && (l.revision ?? 0) >= commit.revision);
      if (visibleAt === undefined || copied === undefined || reloaded === undefined) return;
      const stages: Stages = {
        notified: (notified?.time ?? Number.NaN) - commit.at,
        copied: copied.time - commit.at,
        readMs: copied.readMs ?? Number.NaN,
        applyMs: copied.applyMs ?? Number.NaN,
        reloaded: reloaded.time - commit.at,
        compileMs: reloaded.ms ?? Number.NaN,
        visible: visibleAt - commit.at,
      };
      perSidecar.push(stages);
      if (last === undefined || stages.visible > last.visible) last = stages;
    });
    if (last !== undefined) lastSidecar.push(last);
  }
  return { perSidecar, lastSidecar };
}

/** The trace as a markdown table: each stage's p50 / p99 over every (commit, sidecar) and over the last sidecar of each commit. */
export function traceTable(commits: readonly CommitMark[], outputs: readonly string[]): string {
  const { perSidecar, lastSidecar } = traceStages(commits, outputs);
  const cell = (rows: Stages[], key: keyof Stages) => {
    const values = rows.map((r) => r[key]).filter((v) => !Number.isNaN(v));
    return `${percentile(values, 50).toFixed(1)} / ${percentile(values, 99).toFixed(1)}`;
  };
  const row = (label: string, key: keyof Stages) =>
    `| ${label} | ${cell(perSidecar, key)} | ${cell(lastSidecar, key)} |`;
  return [
    "### Where the time goes (--trace)",
    "",
    `${perSidecar.length} (commit, sidecar) pairs traced; times in ms after the commit returned (epoch clocks of one host), p50 / p99.`,
    "",
    "| stage | every sidecar | the last sidecar of each commit |",
    "|---|---:|---:|",
    row("notification received by the follower", "notified"),
    row("… copy written (read + write done)", "copied"),
    row("    of which: read of the primary (duration)", "readMs"),
    row("    of which: write of the copy (duration)", "applyMs"),
    row("… policy reloaded (snapshot swapped)", "reloaded"),
    row("    of which: compile and swap (duration)", "compileMs"),
    row("… seen by the bench's probe", "visible"),
    "",
  ].join("\n");
}
