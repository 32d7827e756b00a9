/**
 * Download tickets for the review export: a browser cannot put a bearer token on a download it
 * streams to disk (`chrome.downloads`, a link), so the extension first asks, with its token, for
 * a ticket naming one export — one tenant, one format, one system scope — and the browser then
 * fetches that URL. A ticket is random (256 bits), kept only in this process's memory, expires
 * within a minute and is spent by its first use; it stands in for the token that asked for it, so
 * on use the token is authenticated and the tenant-wide read right checked again (a token or
 * right revoked in between refuses the download). It opens nothing but that export.
 */
import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { RpcError } from "../server/rpc.js";
import type { ReviewFormat } from "./review-stream.js";

/** What a ticket lets its bearer download, and whose token it stands for. */
export interface ReviewTicketScope {
  readonly tenantId: string;
  readonly format: ReviewFormat;
  readonly system: string | undefined;
}

interface Issued extends ReviewTicketScope {
  /** The Authorization header of the call that asked for the ticket. */
  readonly authorization: string | undefined;
  readonly expiresAt: number;
}

/** How long a ticket stays usable. */
export const REVIEW_TICKET_TTL_MS = 60_000;

/** Most tickets outstanding at once (the oldest is dropped beyond it). */
const MAX_OUTSTANDING = 256;

/** Single-use, short-lived review download tickets. */
export class ReviewTickets {
  private readonly issued = new Map<string, Issued>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new ticket for `scope`, standing for `authorization` (already authenticated and authorized). */
  issue(scope: ReviewTicketScope, authorization: string | undefined): { ticket: string; expiresAt: number } {
    this.sweep();
    while (this.issued.size >= MAX_OUTSTANDING) this.issued.delete(this.issued.keys().next().value!);
    const ticket = randomBytes(32).toString("base64url");
    const expiresAt = this.now() + REVIEW_TICKET_TTL_MS;
    this.issued.set(ticket, { ...scope, authorization, expiresAt });
    return { ticket, expiresAt };
  }

  /**
   * Spends `ticket` on `scope`: the Authorization header it stands for. Throws UNAUTHENTICATED for
   * a ticket unknown, spent or expired, PERMISSION_DENIED for one issued for another export (it
   * is spent all the same: a ticket tried on the wrong export is not tried again).
   */
  redeem(ticket: string, scope: ReviewTicketScope): string | undefined {
    const issued = this.issued.get(ticket);
    this.issued.delete(ticket);
    if (issued === undefined || issued.expiresAt <= this.now()) {
      throw new RpcError(
        Code.Unauthenticated,
        "the download ticket is unknown, used or expired: export again (a ticket serves one download within a minute)",
      );
    }
    if (
      issued.tenantId !== scope.tenantId ||
      issued.format !== scope.format ||
      issued.system !== scope.system
    ) {
      throw new RpcError(
        Code.PermissionDenied,
        `the download ticket was issued for the ${issued.format} review of tenant '${issued.tenantId}'${issued.system === undefined ? "" : ` (system ${issued.system})`}, not this one`,
      );
    }
    return issued.authorization;
  }

  /** Drops expired tickets. */
  private sweep(): void {
    const now = this.now();
    for (const [ticket, issued] of this.issued) if (issued.expiresAt <= now) this.issued.delete(ticket);
  }
}
