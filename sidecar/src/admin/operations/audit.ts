/** The audit log: every committed admin write, newest first, a page at a time. */
import { StoreError } from "../../store/store-error.js";
import { type AdminContext, gate } from "../admin-context.js";
import { requireTenant } from "../lookups.js";
import { type Principal, principalLabel } from "../principal.js";
import { runRead } from "../write.js";

/** One audit row. */
export interface AuditEvent {
  readonly id: number;
  readonly time: string;
  readonly actor: string;
  readonly tenantId: string | null;
  readonly operation: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly revision: number;
}

/** Audit events, newest first (`pageToken` from the previous page's `nextPageToken`). */
export async function listAuditEvents(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId?: string; readonly pageSize?: number; readonly pageToken?: string } = {},
): Promise<{ readonly events: AuditEvent[]; readonly nextPageToken: string }> {
  const pageSize = req.pageSize ?? 100;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new StoreError("INVALID_ARGUMENT", `page_size must be an integer from 1 to 1000, got ${pageSize}`, {
      field: "page_size",
    });
  }
  const before =
    req.pageToken === undefined || req.pageToken === "" ? Number.MAX_SAFE_INTEGER : Number(req.pageToken);
  if (!Number.isSafeInteger(before) || before < 0) {
    throw new StoreError("INVALID_ARGUMENT", "page_token is not one this server handed out", {
      field: "page_token",
    });
  }
  return runRead(ctx, async (tx) => {
    if (req.tenantId === undefined) {
      if (actor.kind !== "bootstrap") {
        throw new StoreError(
          "PERMISSION_DENIED",
          `${principalLabel(actor)} must name its tenant to list audit events`,
        );
      }
    } else {
      await gate(ctx, tx, actor, req.tenantId, "any");
      await requireTenant(tx, req.tenantId);
    }
    const rows = await tx.auditPage(req.tenantId ?? null, before, pageSize + 1);
    const page = rows.slice(0, pageSize);
    const events = page.map((r) => ({
      ...r,
      before: r.before === null ? null : (JSON.parse(r.before) as unknown),
      after: r.after === null ? null : (JSON.parse(r.after) as unknown),
    }));
    const last = page[page.length - 1];
    return { events, nextPageToken: rows.length > pageSize && last !== undefined ? String(last.id) : "" };
  });
}
