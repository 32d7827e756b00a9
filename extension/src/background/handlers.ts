/**
 * The background's table of named message handlers. Each names who may call it: the content
 * script of a web page ("content") or one of our own pages ("extension": popup, options).
 * Nothing a handler returns to the content script contains the token or another user's data.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import browser, { type Runtime } from "webextension-polyfill";
import type { BackgroundApi, BackgroundMethod, ContentMessage, Reply } from "../messages.js";
import { formatSubject } from "../messages.js";
import {
  compare,
  fixesFor,
  history,
  mayMake,
  policyRevision,
  preview,
  reviewCsv,
  UserFacingError,
  unknownUserMessage,
} from "./analyzer.js";
import { decisionsOf, effectiveView, explanationView, isUnknownUser, pageSurfaces } from "./from-proto.js";
import { readSettings, remember } from "./settings.js";
import { createSidecarClients, describeSidecarError } from "./sidecar-client.js";
import { licensesNamed, withCauses } from "./surface-causes.js";
import { readRoles, readSeats } from "./tenant-facts.js";

/** Who sent a message. */
export type SenderKind = "content" | "extension";

/** What a handler knows about its caller. */
export interface HandlerContext {
  readonly kind: SenderKind;
  /** The URL of the sending page or frame, as the browser reports it (not as the sender claims). */
  readonly url: string;
}

/** One named handler. */
interface Handler<M extends BackgroundMethod> {
  /** Sender kinds allowed to call it. */
  readonly from: readonly SenderKind[];
  run(request: BackgroundApi[M]["request"], ctx: HandlerContext): Promise<BackgroundApi[M]["response"]>;
}

/** Runs a sidecar call with the current settings, turning failures into sentences. */
async function withSidecar<T>(
  call: (clients: ReturnType<typeof createSidecarClients>) => Promise<T>,
): Promise<T> {
  const settings = await readSettings();
  try {
    return await call(createSidecarClients(settings));
  } catch (err) {
    if (err instanceof UserFacingError) throw err;
    throw new UserFacingError(describeSidecarError(err, settings.sidecarUrl));
  }
}

/** Tells every tab's content script to switch the overlay on or off. */
async function broadcastOverlay(enabled: boolean): Promise<void> {
  const message: ContentMessage = { type: "overlayState", enabled };
  const tabs = await browser.tabs.query({});
  await Promise.all(
    tabs.map((tab) =>
      tab.id === undefined
        ? undefined
        : // Tabs without our content script (chrome:// pages, other hosts) cannot answer; that is fine.
          browser.tabs.sendMessage(tab.id, message).catch(() => undefined),
    ),
  );
}

/** Switches the overlay everywhere and remembers the choice. */
export async function setOverlayEnabled(enabled: boolean): Promise<boolean> {
  await remember("overlayEnabled", enabled);
  await broadcastOverlay(enabled);
  return enabled;
}

/** Checks reachability, then the token, with the given (possibly unsaved) settings. */
async function testConnection(
  request: BackgroundApi["testConnection"]["request"],
): Promise<{ message: string }> {
  const saved = await readSettings();
  const sidecarUrl = (request.sidecarUrl?.trim() || saved.sidecarUrl).replace(/\/+$/, "");
  const token = request.token?.trim() ?? saved.token;
  let health: Response;
  try {
    health = await fetch(`${sidecarUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
  } catch (err) {
    throw new UserFacingError(
      `cannot reach the sidecar at ${sidecarUrl}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (health.status === 503)
    throw new UserFacingError(`the sidecar at ${sidecarUrl} is up but not serving yet`);
  if (!health.ok)
    throw new UserFacingError(
      `${sidecarUrl}/healthz answered HTTP ${health.status}: is this a rolecall sidecar?`,
    );
  if (token === "")
    return {
      message: `connected to ${sidecarUrl}; no token set, so the sidecar may refuse calls that need one`,
    };
  try {
    const res = await createSidecarClients({ sidecarUrl, token }).admin.listTenants({});
    return {
      message: `connected to ${sidecarUrl}; the token is accepted (${res.tenants.length} tenant(s) visible)`,
    };
  } catch (err) {
    const e = ConnectError.from(err);
    // A valid token that may not list tenants is still a working connection.
    if (e.code === Code.PermissionDenied) {
      return { message: `connected to ${sidecarUrl}; the token is accepted (it may not list tenants)` };
    }
    if (e.code === Code.Unimplemented) {
      return {
        message: `connected to ${sidecarUrl}; the token could not be checked (no AdminService on this listener)`,
      };
    }
    throw new UserFacingError(describeSidecarError(e, sidecarUrl));
  }
}

/** How long one revision answer serves every tab polling the same tenant. */
const REVISION_SHARE_MS = 1_000;
const revisionAsks = new Map<string, { at: number; revision: Promise<string> }>();

/** The sidecar's revision for a tenant, asked at most once a second however many tabs poll. */
function sharedRevision(tenantId: string): Promise<string> {
  const recent = revisionAsks.get(tenantId);
  if (recent && Date.now() - recent.at < REVISION_SHARE_MS) return recent.revision;
  const revision = withSidecar((c) => policyRevision(c, tenantId));
  revisionAsks.set(tenantId, { at: Date.now(), revision });
  // A failure is not shared: the next poll asks again.
  revision.catch(() => revisionAsks.delete(tenantId));
  return revision;
}

/** The handlers, by message type. */
export const HANDLERS: { readonly [M in BackgroundMethod]: Handler<M> } = {
  resolveSurfaces: {
    from: ["content"],
    async run({ subject }, ctx) {
      const { tenantId, userId } = subject;
      // The URL comes from the browser, so a page cannot ask about another app's pages.
      const page = await withSidecar(async (c) => {
        const res = await c.policy.resolveSurfaces({ tenantId, userId, url: ctx.url });
        const base = pageSurfaces(subject, res);
        // No suggestion here: the content script gets no other user's id.
        if (isUnknownUser({ permissions: res.surfaces }))
          return { ...base, surfaces: [], unknownUser: `tenant ${tenantId} has no user '${userId}'` };
        if (base.surfaces.every((s) => s.allowed)) return base;
        const [eff, roles] = await Promise.all([
          c.policy.listEffectivePermissions({ tenantId, userId }),
          readRoles(c, tenantId),
        ]);
        const decisions = decisionsOf(eff);
        const seats = await Promise.all(licensesNamed(base, decisions).map((l) => readSeats(c, tenantId, l)));
        return withCauses(base, {
          userId,
          userRoleIds: eff.roleIds,
          decisions,
          roles,
          seats: new Map(seats.filter((l) => l !== undefined).map((l) => [l.licenseId, l])),
        });
      });
      await remember("lastSubject", formatSubject(subject));
      return page;
    },
  },
  listEffective: {
    from: ["extension"],
    async run({ subject }) {
      return withSidecar(async (c) => {
        const [res, roles] = await Promise.all([
          c.policy.listEffectivePermissions({ tenantId: subject.tenantId, userId: subject.userId }),
          readRoles(c, subject.tenantId),
        ]);
        const view = effectiveView(subject, res, roles);
        if (!isUnknownUser(res)) return view;
        return { ...view, permissions: [], unknownUser: await unknownUserMessage(c, subject) };
      });
    },
  },
  explain: {
    from: ["extension"],
    async run({ subject, permission }) {
      const res = await withSidecar((c) =>
        c.policy.explainPermission({ tenantId: subject.tenantId, userId: subject.userId, permission }),
      );
      return explanationView(permission, res);
    },
  },
  fixes: {
    from: ["extension"],
    run: ({ subject, permission }) => withSidecar((c) => fixesFor(c, subject, permission)),
  },
  compare: {
    from: ["extension"],
    run: ({ subject, otherUserId }) => withSidecar((c) => compare(c, subject, otherUserId)),
  },
  preview: {
    from: ["extension"],
    run: ({ subject, write }) => withSidecar((c) => preview(c, subject.tenantId, write)),
  },
  mayPreview: {
    // The overlay offers "Preview change" only when the answer is yes: a yes or no on one write.
    from: ["content", "extension"],
    run: async ({ subject, write }) => ({
      allowed: await withSidecar((c) => mayMake(c, subject.tenantId, write)),
    }),
  },
  history: {
    from: ["extension"],
    run: ({ subject }) => withSidecar((c) => history(c, subject)),
  },
  reviewCsv: {
    from: ["extension"],
    run: ({ tenantId }) => reviewCsv(tenantId),
  },
  policyRevision: {
    // The overlay polls it too; a revision number says nothing about anyone's access.
    from: ["content", "extension"],
    async run({ tenantId }) {
      return { revision: await sharedRevision(tenantId) };
    },
  },
  openPopup: {
    from: ["content"],
    async run({ subject, write, text }) {
      const query = new URLSearchParams({ subject: formatSubject(subject) });
      if (write) query.set("preview", JSON.stringify(write));
      if (typeof text === "string") query.set("fix", text.slice(0, 300));
      await browser.tabs.create({ url: browser.runtime.getURL(`popup.html?${query}`) });
      return {};
    },
  },
  testConnection: { from: ["extension"], run: testConnection },
  getState: {
    from: ["extension"],
    async run() {
      const s = await readSettings();
      return {
        sidecarUrl: s.sidecarUrl,
        hasToken: s.token !== "",
        overlayEnabled: s.overlayEnabled,
        lastSubject: s.lastSubject,
      };
    },
  },
  getOverlayState: {
    from: ["content", "extension"],
    async run() {
      return { enabled: (await readSettings()).overlayEnabled };
    },
  },
  setOverlayEnabled: {
    from: ["extension"],
    async run({ enabled }) {
      return { enabled: await setOverlayEnabled(enabled === true) };
    },
  },
};

/** Who sent a message, or undefined for anyone we do not answer (other extensions, frames, web pages). */
export function classifySender(sender: Runtime.MessageSender): HandlerContext | undefined {
  if (sender.id !== browser.runtime.id || !sender.url) return undefined;
  if (sender.url.startsWith(browser.runtime.getURL(""))) return { kind: "extension", url: sender.url };
  // Our content script runs in top frames of http pages only.
  if (sender.tab && sender.frameId === 0 && /^https?:\/\//.test(sender.url))
    return { kind: "content", url: sender.url };
  return undefined;
}

/** Dispatches one message; unknown types and unauthorized senders get a refusal, never an exception. */
export async function dispatch(
  message: unknown,
  sender: Runtime.MessageSender,
): Promise<Reply<unknown> | undefined> {
  const ctx = classifySender(sender);
  if (!ctx) return undefined;
  const type =
    typeof message === "object" && message !== null ? (message as { type?: unknown }).type : undefined;
  if (typeof type !== "string" || !Object.hasOwn(HANDLERS, type)) {
    return { ok: false, error: `unknown request '${String(type)}'` };
  }
  const handler = HANDLERS[type as BackgroundMethod] as Handler<BackgroundMethod>;
  if (!handler.from.includes(ctx.kind))
    return { ok: false, error: `'${type}' may not be asked from a ${ctx.kind} script` };
  try {
    // Requests are JSON from our own scripts; the handler reads only the fields it knows.
    return { ok: true, value: await handler.run(message as never, ctx) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
