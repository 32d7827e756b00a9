import { describe, expect, it } from "vitest";
import { traceAsync, traceSync, tracesUrl, traceUnary, tracingOn } from "./tracing.js";

describe("tracesUrl", () => {
  it("is off without an endpoint, and appends v1/traces to the general one", () => {
    expect(tracesUrl(undefined, {})).toBeUndefined();
    expect(tracesUrl("http://collector:4318/", {})).toBe("http://collector:4318/v1/traces");
  });

  it("takes the traces endpoint as is and obeys the standard off switches", () => {
    const traces = "http://collector:4318/custom/path";
    expect(tracesUrl(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: traces })).toBe(traces);
    expect(tracesUrl("http://c:4318", { OTEL_SDK_DISABLED: "true" })).toBeUndefined();
    expect(tracesUrl("http://c:4318", { OTEL_TRACES_EXPORTER: "none" })).toBeUndefined();
  });
});

describe("with tracing off", () => {
  it("hands back the very handler, so the check path runs no extra code", () => {
    expect(tracingOn()).toBe(false);
    const handler = (request: { n: number }) => ({ n: request.n + 1 });
    expect(traceUnary("rolecall.v1.PolicyService/CheckPermission", "grpc", handler)).toBe(handler);
  });

  it("runs wrapped bodies unchanged, errors included", async () => {
    expect(traceSync("s", {}, () => 7)).toBe(7);
    await expect(traceAsync("a", {}, () => Promise.resolve(8))).resolves.toBe(8);
    await expect(traceAsync("a", {}, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  });
});
