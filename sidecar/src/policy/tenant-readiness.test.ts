import { describe, expect, it } from "vitest";
import { TenantNotReadyError } from "./decision.js";
import type { Snapshot } from "./snapshot.js";
import { TenantReadiness } from "./tenant-readiness.js";

// Only the loading set is read by the waits: a snapshot with tenant "t" still loading.
const loading = { pendingTenantIds: new Set(["t"]) } as unknown as Snapshot;
const loaded = { pendingTenantIds: new Set<string>() } as unknown as Snapshot;

describe("TenantReadiness", () => {
  it("does not wait for a tenant that is not loading", () => {
    expect(new TenantReadiness().wait(loading, "other", undefined)).toBeUndefined();
  });

  it("holds a wait no longer than maxWaitMs, whatever deadline the caller set", async () => {
    const readiness = new TenantReadiness({ marginMs: 0, maxWaitMs: 50 });
    const started = Date.now();
    await expect(readiness.wait(loading, "t", Date.now() + 3_600_000)).rejects.toBeInstanceOf(
      TenantNotReadyError,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("resumes a waiting call once a snapshot holding the tenant is installed", async () => {
    const readiness = new TenantReadiness();
    const wait = readiness.wait(loading, "t", Date.now() + 5_000);
    readiness.installed(loaded);
    await expect(wait).resolves.toBeUndefined();
  });
});
