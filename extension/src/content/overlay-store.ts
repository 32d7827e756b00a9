/**
 * The overlay's state: the page's surfaces from the background, and where each one is on the page
 * right now. Features read it and subscribe to changes; nothing here draws.
 */
import type { PageSurfaces, ProposedWrite, Subject, SurfaceView } from "../messages.js";
import { ask } from "../send.js";

/** A surface found on the page, visible. */
export interface PlacedSurface {
  readonly surface: SurfaceView;
  readonly elements: readonly Element[];
}

/** A surface of the page's URL that the page does not show. */
export interface MissingSurface {
  readonly surface: SurfaceView;
  /** `absent` (nothing matches) or `hidden` (matches, but display:none or zero size). */
  readonly why: "absent" | "hidden";
}

/** What the features draw from. */
export interface OverlayState {
  readonly subject: Subject;
  /** Undefined until the first answer. */
  readonly page: PageSurfaces | undefined;
  /** A sentence for people when the background could not answer. */
  readonly error: string | undefined;
  readonly placed: readonly PlacedSurface[];
  readonly missing: readonly MissingSurface[];
}

/** The store shared by the overlay's features. */
export interface OverlayStore {
  readonly state: OverlayState;
  /** The overlay's own host element, which scans must skip. */
  readonly host: Element;
  /** Calls `listener` after every change until `signal` aborts. */
  subscribe(listener: () => void, signal: AbortSignal): void;
  /** Asks the background again (URL changed, tab shown again). */
  refresh(): Promise<void>;
  /** Finds the surfaces on the page again (DOM changed). */
  rescan(): void;
  /** Asks the sidecar's revision; refreshes when the policy moved since the last answer. */
  followPolicy(): Promise<void>;
  /** Opens the popup as a tab, previewing a fix (`text` as the panel shows it) for this page's user. */
  openPreview(write: ProposedWrite, text: string): void;
  /**
   * Whether the extension's token may make `write` (the sidecar's own authorization, nothing
   * committed); asked once per write until the policy moves. False when it cannot tell.
   */
  mayPreview(write: ProposedWrite): Promise<boolean>;
}

function isShown(el: Element): boolean {
  const rect = el.getBoundingClientRect();
  if (rect.width === 0 || rect.height === 0) return false;
  const style = getComputedStyle(el);
  return style.visibility !== "hidden" && style.display !== "none";
}

/** Elements for a surface: the app's own `data-rolecall-surface` first, the registered selector second. */
export function findSurfaceElements(surface: SurfaceView, host: Element): Element[] {
  const own = [...document.querySelectorAll(`[data-rolecall-surface="${CSS.escape(surface.surfaceId)}"]`)];
  let found = own;
  if (found.length === 0 && surface.selector !== "") {
    try {
      found = [...document.querySelectorAll(surface.selector)];
    } catch {
      found = []; // a registered selector the browser cannot parse matches nothing
    }
  }
  return found.filter((el) => el !== host && !host.contains(el));
}

/** Creates the store; `signal` ends it (late answers are then ignored). */
export function createOverlayStore(subject: Subject, host: Element, signal: AbortSignal): OverlayStore {
  const listeners = new Set<() => void>();
  // Answers per write, until the policy moves (every redraw asks again).
  let mayMake = new Map<string, Promise<boolean>>();
  let state: OverlayState = { subject, page: undefined, error: undefined, placed: [], missing: [] };
  const set = (next: OverlayState) => {
    if (signal.aborted) return;
    state = next;
    for (const l of listeners) l();
  };

  const locate = (page: PageSurfaces | undefined) => {
    const placed: PlacedSurface[] = [];
    const missing: MissingSurface[] = [];
    for (const surface of page?.surfaces ?? []) {
      const elements = findSurfaceElements(surface, host);
      const shown = elements.filter(isShown);
      if (shown.length > 0) placed.push({ surface, elements: shown });
      else missing.push({ surface, why: elements.length === 0 ? "absent" : "hidden" });
    }
    return { placed, missing };
  };

  return {
    host,
    get state() {
      return state;
    },
    subscribe(listener, until) {
      listeners.add(listener);
      until.addEventListener("abort", () => listeners.delete(listener), { once: true });
    },
    async refresh() {
      const reply = await ask({ type: "resolveSurfaces", subject });
      if (reply.ok && reply.value.revision !== state.page?.revision) mayMake = new Map();
      if (reply.ok) set({ subject, page: reply.value, error: undefined, ...locate(reply.value) });
      else set({ ...state, error: reply.error });
    },
    rescan() {
      set({ ...state, ...locate(state.page) });
    },
    async followPolicy() {
      const reply = await ask({ type: "policyRevision", tenantId: subject.tenantId });
      if (reply.ok && state.page && reply.value.revision !== state.page.revision) await this.refresh();
    },
    mayPreview(write) {
      const key = JSON.stringify(write);
      let answer = mayMake.get(key);
      if (answer === undefined) {
        answer = ask({ type: "mayPreview", subject, write }).then((r) => r.ok && r.value.allowed);
        mayMake.set(key, answer);
      }
      return answer;
    },
    openPreview(write, text) {
      void ask({ type: "openPopup", subject, write, text }).then((reply) => {
        if (!reply.ok) set({ ...state, error: reply.error });
      });
    },
  };
}
