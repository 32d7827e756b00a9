import { describe, expect, it } from "vitest";
import { type RevisionEvent, RevisionFeed } from "./revision-feed.js";

describe("RevisionFeed", () => {
  it("delivers published revisions in order to each subscriber and forgets it on abort", async () => {
    const feed = new RevisionFeed();
    const controller = new AbortController();
    const seen: RevisionEvent[] = [];
    const reading = (async () => {
      for await (const e of feed.subscribe(controller.signal)) {
        seen.push(e);
        if (seen.length === 2) controller.abort();
      }
    })();
    await Promise.resolve();
    expect(feed.size).toBe(1);
    feed.publish({ revision: 4, tenantIds: ["demo"] });
    feed.publish({ revision: 5, tenantIds: [] });
    await reading;
    expect(seen.map((e) => e.revision)).toEqual([4, 5]);
    expect(feed.size).toBe(0);
  });

  it("keeps only the newest events for a subscriber that does not read", async () => {
    const feed = new RevisionFeed(2);
    const controller = new AbortController();
    const stream = feed.subscribe(controller.signal);
    const first = stream.next(); // subscribes and waits
    for (let r = 1; r <= 5; r++) feed.publish({ revision: r, tenantIds: [] });
    expect((await first).value?.revision).toBe(4);
    expect((await stream.next()).value?.revision).toBe(5);
    controller.abort();
    expect((await stream.next()).done).toBe(true);
  });

  it("refuses a bound that is not a positive integer", () => {
    expect(() => new RevisionFeed(0)).toThrow(TypeError);
  });
});
