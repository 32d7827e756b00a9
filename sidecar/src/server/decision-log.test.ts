import { describe, expect, it } from "vitest";
import { DecisionLog, type DecisionRecord } from "./decision-log.js";

const entry = (i: number): DecisionRecord => ({
  tenantId: "demo",
  userId: `u${i}`,
  permission: "cxengage/CONTACTS_READ",
  allowed: true,
  reason: "GRANTED",
  revision: 1,
});

describe("DecisionLog", () => {
  it("writes kept decisions later, in one batch, never during record()", async () => {
    const batches: (readonly DecisionRecord[])[] = [];
    const log = new DecisionLog({ sampleRate: 1, write: (b) => batches.push(b) });
    log.record(entry(1));
    log.record(entry(2));
    expect(batches).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(batches.map((b) => b.map((e) => e.userId))).toEqual([["u1", "u2"]]);
  });

  it("samples by the configured rate", async () => {
    let written = 0;
    const values = [0.05, 0.5, 0.09, 0.95];
    let i = 0;
    const log = new DecisionLog({
      sampleRate: 0.1,
      write: (b) => {
        written += b.length;
      },
      random: () => values[i++ % values.length]!,
    });
    for (let n = 0; n < 4; n++) log.record(entry(n));
    log.flush();
    expect(written).toBe(2);
  });

  it("drops and counts what does not fit, keeping memory bounded", () => {
    let dropped = 0;
    const log = new DecisionLog({
      sampleRate: 1,
      maxQueued: 3,
      write: () => {},
      onDrop: () => {
        dropped++;
      },
    });
    for (let n = 0; n < 10; n++) log.record(entry(n));
    expect(dropped).toBe(7);
  });

  it("refuses a rate outside 0..1", () => {
    expect(() => new DecisionLog({ sampleRate: 2, write: () => {} })).toThrow(TypeError);
  });
});
