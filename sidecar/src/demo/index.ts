/** The demo contact-center app: its route for the HTTP listener and its app registration. */

export { type DemoAppRegistration, demoAppRegistration } from "./demo-registration.js";
export { createDemoRoute, DEMO_ROUTE_DEFAULTS, type DemoRouteOptions } from "./demo-route.js";
export { createSidecarDemo, type SidecarDemo, type SidecarDemoOptions } from "./sidecar-demo.js";
export { matchesUrlPattern, pathForUrlPattern } from "./url-pattern.js";
