import { describe, expect, it } from "vitest";
import { type AppRegistration, AppRegistry, globToRegExp } from "./app-registry.js";

const desk: AppRegistration = {
  appId: "desk",
  name: "Agent desk",
  baseUrl: "https://desk.example.com/app",
  pages: [
    { urlPattern: "/", surfaceIds: ["cxengage/contact-management-panel"] },
    { urlPattern: "/reports*", surfaceIds: ["iadvize/reports-tab", "iadvize/supervision-report"] },
    { urlPattern: "*", surfaceIds: ["iadvize/reports-tab"] },
  ],
  selectors: [{ surfaceId: "iadvize/reports-tab", selector: "#nav .reports" }],
  subject: { kind: "meta" },
};

describe("AppRegistry", () => {
  const registry = new AppRegistry(new Map([["acme", [desk]]]));

  it("matches a tenant's app by origin and path prefix, unioning every matching page", () => {
    const m = registry.match("acme", "https://desk.example.com/app/reports/daily?x=1");
    expect(m?.app.appId).toBe("desk");
    expect(m?.surfaceIds).toEqual(["iadvize/reports-tab", "iadvize/supervision-report"]);
    expect(m?.selectorFor("iadvize/reports-tab")).toBe("#nav .reports");
    expect(m?.selectorFor("iadvize/supervision-report")).toBeUndefined();
  });

  it("treats the base URL itself as the path /", () => {
    expect(registry.match("acme", "https://desk.example.com/app")?.surfaceIds).toEqual([
      "cxengage/contact-management-panel",
      "iadvize/reports-tab",
    ]);
  });

  it("does not match another origin, another prefix, another tenant or a malformed URL", () => {
    expect(registry.match("acme", "https://evil.example.com/app/")).toBeUndefined();
    expect(registry.match("acme", "https://desk.example.com/application/")).toBeUndefined();
    expect(registry.match("other", "https://desk.example.com/app/")).toBeUndefined();
    expect(registry.match("acme", "not a url")).toBeUndefined();
  });

  it("offers shared apps to every tenant after the tenant's own", () => {
    const shared = new AppRegistry(new Map(), [{ ...desk, appId: "demo" }]);
    expect(shared.match("anyone", "https://desk.example.com/app/")?.app.appId).toBe("demo");
  });

  it("treats glob characters other than * literally", () => {
    expect(globToRegExp("/a.b*").test("/a.b/c")).toBe(true);
    expect(globToRegExp("/a.b*").test("/axb")).toBe(false);
  });
});
