/**
 * The overlay's host element (`#rolecall-overlay`) and its open shadow root, so the page's CSS
 * cannot reach our drawing and ours cannot leak into the page. Removed when the signal aborts.
 */

/** The host element's id. */
export const OVERLAY_HOST_ID = "rolecall-overlay";

const CSS_TEXT = `
:host{all:initial;position:fixed;inset:0;pointer-events:none;z-index:2147483647;font:12px/1.4 system-ui,sans-serif}
.layer{position:absolute;inset:0;pointer-events:none}
.box{position:absolute;border:2px solid;border-radius:3px;pointer-events:none;box-sizing:border-box}
.box.allowed{border-color:#1a7f37;background:#1a7f3708}
.box.denied{border-color:#cf222e;background:#cf222e10}
.badge{position:absolute;pointer-events:auto;cursor:help;font:inherit;border:0;margin:0;padding:1px 6px;border-radius:3px;color:#fff;white-space:nowrap;max-width:320px;overflow:hidden;text-overflow:ellipsis;box-shadow:0 1px 2px #0004}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.badge:focus-visible{outline-color:#0b57d0;box-shadow:0 0 0 5px #fff}
.badge[data-decision="allowed"]{background:#1a7f37}
.badge[data-decision="denied"]{background:#cf222e}
.panel{position:fixed;right:12px;bottom:12px;width:min(340px,calc(100vw - 24px));max-height:60vh;overflow:auto;pointer-events:auto;background:#fff;color:#1d2330;border:1px solid #c5cfdd;border-radius:8px;box-shadow:0 4px 16px #0003}
.panel header{display:flex;align-items:center;gap:8px;padding:8px 10px;background:#1f3a5f;color:#fff;border-radius:8px 8px 0 0;position:sticky;top:0}
.panel header strong{font-size:13px}
.panel header button{margin-left:auto;font:inherit;min-width:28px;background:transparent;color:#fff;border:1px solid #fff;border-radius:4px;cursor:pointer}
.panel header button:focus-visible{outline:3px solid #fff;outline-offset:1px}
.panel button.link{font:inherit;background:none;border:0;padding:0;color:#0b57d0;text-decoration:underline;cursor:pointer}
.panel details.group{border-top:1px solid #e3e8f0;padding:2px 0}
.panel details.group>summary{cursor:pointer;font-weight:600;padding:4px 0}
.panel .licenses{color:#9b1c26}
.panel .fix.more{font-size:11px}
.panel .body{padding:8px 10px}
.panel h3{font-size:12px;margin:8px 0 4px;text-transform:uppercase;letter-spacing:.04em;color:#5a6578}
.panel ul{list-style:none;margin:0;padding:0}
.panel li{border-top:1px solid #e3e8f0;padding:6px 0}
.panel .decision.denied{color:#cf222e;font-weight:600}
.panel .decision.allowed{color:#1a7f37;font-weight:600}
.panel .needs{font-family:ui-monospace,monospace;font-size:11px;word-break:break-word}
.panel .fix{color:#5a6578}
.panel .error{color:#cf222e;font-weight:600}
.panel .muted{color:#5a6578}
.panel.collapsed .body{display:none}
@media (max-width:480px){.panel{right:8px;bottom:8px;width:calc(100vw - 16px);max-height:45vh}}
`;

function styleFor(root: ShadowRoot): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS_TEXT);
    // A constructed sheet is not subject to the page's CSP for inline styles.
    root.adoptedStyleSheets = [sheet];
  } catch {
    const style = document.createElement("style");
    style.textContent = CSS_TEXT;
    root.append(style);
  }
}

/** Creates the host and its shadow root; the host disappears when `signal` aborts. */
export function createOverlayHost(signal: AbortSignal): { host: HTMLElement; root: ShadowRoot } {
  document.getElementById(OVERLAY_HOST_ID)?.remove();
  const host = document.createElement("div");
  host.id = OVERLAY_HOST_ID;
  const root = host.attachShadow({ mode: "open" });
  styleFor(root);
  document.documentElement.append(host);
  signal.addEventListener("abort", () => host.remove(), { once: true });
  return { host, root };
}
