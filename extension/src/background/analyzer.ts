/**
 * The background's access-analyzer requests: fixes for a denial, two users compared, a change
 * previewed with SimulateChanges (read-only: nothing is committed), the user's access history,
 * the tenant's review export, and the policy revision the overlay and popup poll to redraw.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { closestKey } from "../../../catalog/closest-key.js";
import type { AdminChange } from "../../../gen/rolecall/v1/policy_pb.js";
import { Reason } from "../../../gen/rolecall/v1/policy_pb.js";
import type {
  AccessChangeView,
  BackgroundApi,
  ComparisonView,
  FixView,
  PreviewView,
  ProposedWrite,
  Subject,
} from "../messages.js";
import { needsFor, rankFixes } from "./fixes.js";
import { comparisonView, decisionsOf, previewView } from "./from-proto.js";
import { readSettings } from "./settings.js";
import { describeSidecarError, type SidecarClients } from "./sidecar-client.js";
import { readRoles, readSeats, readUserIds } from "./tenant-facts.js";

/** A failure whose message is already meant for people. */
export class UserFacingError extends Error {}

/** "tenant demo has no user 'davd' (did you mean 'dave'?)", with the suggestion apart. */
export async function unknownUserMessage(
  clients: SidecarClients,
  subject: Subject,
): Promise<{ message: string; suggestion: string | undefined }> {
  const suggestion = closestKey(subject.userId, await readUserIds(clients, subject.tenantId)) ?? undefined;
  return {
    message: `tenant ${subject.tenantId} has no user '${subject.userId}'${suggestion ? ` — did you mean ${subject.tenantId}/${suggestion}?` : ""}`,
    suggestion,
  };
}

/** Ranked fixes for one denied permission of the subject. */
export async function fixesFor(c: SidecarClients, subject: Subject, permission: string): Promise<FixView[]> {
  const [eff, roles] = await Promise.all([
    c.policy.listEffectivePermissions({ tenantId: subject.tenantId, userId: subject.userId }),
    readRoles(c, subject.tenantId),
  ]);
  const decisions = decisionsOf(eff);
  const needs = needsFor(permission, decisions);
  const licenses = [
    ...new Set(
      needs.flatMap((k) => (decisions.get(k)?.reason === "LICENSE_MISSING" ? decisions.get(k)!.missing : [])),
    ),
  ];
  const seats = await Promise.all(licenses.map((l) => readSeats(c, subject.tenantId, l)));
  const seatsFree = new Map(seats.filter((s) => s !== undefined).map((s) => [s.licenseId, s.seats - s.used]));
  return rankFixes(
    {
      tenantId: subject.tenantId,
      userId: subject.userId,
      needs,
      userRoleIds: eff.roleIds,
      decisions,
      seatsFree,
    },
    roles,
  );
}

/** The two users' differences, or a clear refusal when the other user does not exist. */
export async function compare(
  c: SidecarClients,
  subject: Subject,
  otherUserId: string,
): Promise<ComparisonView> {
  const [res, roles] = await Promise.all([
    c.policy.compareUsers({ tenantId: subject.tenantId, userId: subject.userId, otherUserId }),
    readRoles(c, subject.tenantId),
  ]);
  const otherUnknown =
    res.permissions.length > 0 && res.permissions.every((p) => p.other?.reason === Reason.USER_UNKNOWN);
  if (otherUnknown) {
    const { message } = await unknownUserMessage(c, { tenantId: subject.tenantId, userId: otherUserId });
    throw new UserFacingError(message);
  }
  return comparisonView(subject, otherUserId, res, roles);
}

/** A proposed write as SimulateChanges' AdminChange. */
function adminChange(write: ProposedWrite): AdminChange["change"] {
  if ("grantPermissions" in write)
    return { case: "grantPermissions", value: write.grantPermissions as never };
  if ("assignRoles" in write) return { case: "assignRoles", value: write.assignRoles as never };
  if ("setRoleLicenses" in write) return { case: "setRoleLicenses", value: write.setRoleLicenses as never };
  if ("setUserActive" in write) return { case: "setUserActive", value: write.setUserActive as never };
  throw new UserFacingError("this change cannot be previewed");
}

/** What one proposed write would do, committing nothing. */
export async function preview(
  c: SidecarClients,
  tenantId: string,
  write: ProposedWrite,
): Promise<PreviewView> {
  try {
    const res = await c.policy.simulateChanges({ tenantId, changes: [{ change: adminChange(write) }] });
    return previewView(res);
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.PermissionDenied || e.code === Code.Unauthenticated)
      throw new UserFacingError(
        `your token may not make this change, so it cannot preview it: ${e.rawMessage}`,
      );
    throw err;
  }
}

/**
 * Whether the token may make `write`: SimulateChanges with `outcomes_only`, so the sidecar runs
 * the write's own authorization (and admin rules) in a transaction it rolls back, and works out
 * nothing else. Refused for the rights — the whole call, or the write — is "no"; a write refused
 * by another admin rule is still worth previewing (the preview says why).
 */
export async function mayMake(c: SidecarClients, tenantId: string, write: ProposedWrite): Promise<boolean> {
  try {
    const res = await c.policy.simulateChanges({
      tenantId,
      changes: [{ change: adminChange(write) }],
      outcomesOnly: true,
    });
    return res.changes.every((ch) => ch.refusalCode !== "PERMISSION_DENIED");
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.PermissionDenied || e.code === Code.Unauthenticated) return false;
    throw err;
  }
}

/** The user's access changes, newest first. */
export async function history(c: SidecarClients, subject: Subject): Promise<AccessChangeView[]> {
  try {
    const res = await c.policy.listAccessChanges({
      tenantId: subject.tenantId,
      userId: subject.userId,
      pageSize: 100,
    });
    return res.changes.map((ch) => ({
      revision: ch.revision.toString(),
      time: ch.time,
      actor: ch.actor,
      operation: ch.operation,
      gained: [...ch.permissionsGained],
      lost: [...ch.permissionsLost],
      summary: ch.summary,
    }));
  } catch (err) {
    if (ConnectError.from(err).code === Code.Unimplemented)
      throw new UserFacingError(
        "this sidecar keeps no access history yet (it does not implement ListAccessChanges): update rolecall to see History",
      );
    throw err;
  }
}

/**
 * A download of the tenant's review as CSV: a single-use, minute-long ticket from the sidecar
 * (asked with the token; the sidecar checks the tenant-wide read right), so the browser streams
 * `GET …/review?format=csv&ticket=…` straight to disk. The extension never holds the file, so a
 * 100,000-user tenant exports in bounded memory; the token never appears in the URL.
 */
export async function reviewCsv(tenantId: string): Promise<BackgroundApi["reviewCsv"]["response"]> {
  const { sidecarUrl, token } = await readSettings();
  const url = `${sidecarUrl}/v1/tenants/${encodeURIComponent(tenantId)}/review/tickets?format=csv`;
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (err) {
    throw new UserFacingError(describeSidecarError(err, sidecarUrl));
  }
  if (res.status === 404 || res.status === 501)
    throw new UserFacingError(
      `this sidecar has no review download tickets (POST ${url} answered HTTP ${res.status}): update rolecall to export CSV`,
    );
  if (res.status === 401)
    throw new UserFacingError("the sidecar refused the token (set a valid token in the extension's options)");
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    throw new UserFacingError(`the review export was refused: ${body.message ?? `HTTP ${res.status}`}`);
  }
  const issued = (await res.json()) as { url: string; filename: string };
  return { url: `${sidecarUrl}${issued.url}`, filename: issued.filename };
}

/** The revision the sidecar serves now: WatchPolicy's first message, then the stream is closed. */
export async function policyRevision(c: SidecarClients, tenantId: string): Promise<string> {
  const stop = new AbortController();
  try {
    for await (const m of c.policy.watchPolicy({ tenantId }, { signal: stop.signal }))
      return m.revision.toString();
  } finally {
    stop.abort();
  }
  throw new UserFacingError("the sidecar closed the policy watch without a revision");
}
