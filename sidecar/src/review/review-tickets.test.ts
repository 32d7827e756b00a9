/** Review download tickets: single use, a minute long, bound to one export. */
import { describe, expect, it } from "vitest";
import { REVIEW_TICKET_TTL_MS, ReviewTickets } from "./review-tickets.js";

const SCOPE = { tenantId: "demo", format: "csv", system: undefined } as const;

describe("ReviewTickets", () => {
  it("stands for the token that asked for it, once", () => {
    const tickets = new ReviewTickets();
    const { ticket } = tickets.issue(SCOPE, "Bearer rc_x");
    expect(tickets.redeem(ticket, SCOPE)).toBe("Bearer rc_x");
    expect(() => tickets.redeem(ticket, SCOPE)).toThrow(/unknown, used or expired/);
  });

  it("expires after a minute", () => {
    let now = 1_000;
    const tickets = new ReviewTickets(() => now);
    const early = tickets.issue(SCOPE, "Bearer a").ticket;
    const late = tickets.issue(SCOPE, "Bearer b").ticket;
    now += REVIEW_TICKET_TTL_MS - 1;
    expect(tickets.redeem(early, SCOPE)).toBe("Bearer a");
    now += 1;
    expect(() => tickets.redeem(late, SCOPE)).toThrow(expect.objectContaining({ code: 16 }));
  });

  it("refuses another export, and is spent by the attempt", () => {
    const tickets = new ReviewTickets();
    const { ticket } = tickets.issue(SCOPE, "Bearer a");
    expect(() => tickets.redeem(ticket, { ...SCOPE, tenantId: "acme" })).toThrow(
      "the download ticket was issued for the csv review of tenant 'demo', not this one",
    );
    expect(() => tickets.redeem(ticket, SCOPE)).toThrow(/unknown, used or expired/);
    const other = tickets.issue(SCOPE, "Bearer a").ticket;
    expect(() => tickets.redeem(other, { ...SCOPE, system: "iadvize" })).toThrow(/not this one/);
  });

  it("keeps at most 256 outstanding, dropping the oldest", () => {
    const tickets = new ReviewTickets();
    const first = tickets.issue(SCOPE, "Bearer a").ticket;
    for (let i = 0; i < 256; i++) tickets.issue(SCOPE, "Bearer a");
    expect(() => tickets.redeem(first, SCOPE)).toThrow(/unknown/);
  });
});
