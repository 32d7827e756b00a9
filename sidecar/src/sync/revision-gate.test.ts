import { describe, expect, it } from "vitest";
import { RevisionGate, RevisionNotReachedError } from "./revision-gate.js";

describe("RevisionGate", () => {
  it("lets a read through at once when its revision is applied", () => {
    const gate = new RevisionGate();
    gate.advance(5);
    expect(gate.reach(5, undefined)).toBeUndefined();
    expect(gate.reach(0, undefined)).toBeUndefined();
  });

  it("holds a read until the revision is applied", async () => {
    const gate = new RevisionGate();
    gate.advance(1);
    let done = false;
    const wait = gate.reach(3, Date.now() + 1_000)!.then(() => {
      done = true;
    });
    gate.advance(2);
    await Promise.resolve();
    expect(done).toBe(false);
    gate.advance(3);
    await wait;
    expect(done).toBe(true);
  });

  it("fails UNAVAILABLE before the deadline when the revision never comes", async () => {
    const gate = new RevisionGate({ marginMs: 10 });
    const started = Date.now();
    const err = await gate.reach(9, started + 60)!.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RevisionNotReachedError);
    expect((err as RevisionNotReachedError).code).toBe("UNAVAILABLE");
    expect((err as Error).message).toContain("not yet 9");
    expect(Date.now() - started).toBeLessThan(60);
  });

  it("holds no read longer than the maximum wait, whatever deadline the caller set", async () => {
    const gate = new RevisionGate({ marginMs: 0, maxWaitMs: 50 });
    const started = Date.now();
    const err = await gate.reach(9, started + 3_600_000)!.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RevisionNotReachedError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("never goes backwards", () => {
    const gate = new RevisionGate();
    gate.advance(7);
    gate.advance(3);
    expect(gate.revision).toBe(7);
  });

  it("gives up at once for a caller that has already gone", async () => {
    const gate = new RevisionGate();
    const controller = new AbortController();
    controller.abort();
    const started = Date.now();
    await expect(gate.reach(5, Date.now() + 5_000, controller.signal)).rejects.toBeInstanceOf(
      RevisionNotReachedError,
    );
    expect(Date.now() - started).toBeLessThan(100);
  });
});
