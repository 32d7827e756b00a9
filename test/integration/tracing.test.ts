/**
 * OpenTelemetry end to end: the real sidecar process, configured only by the standard OTEL_*
 * variables, exports its spans over OTLP/HTTP to a receiver this test runs on loopback; a caller's
 * W3C traceparent (gRPC metadata, HTTP header) makes the sidecar's spans part of the caller's trace.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyService } from "../../gen/rolecall/v1/policy_pb.js";
import { action, authzenCaller, resource, subject } from "../support/authzen.js";
import { rolecall } from "../support/cli.js";
import { connectClient, grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

/** One span as OTLP/JSON carries it (the fields the test reads). */
interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: { key: string; value: Record<string, unknown> }[];
  readonly status?: { code?: number };
  readonly service: string | undefined;
}

/** A minimal OTLP/HTTP traces receiver: accepts JSON exports on /v1/traces and keeps every span. */
async function startReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[] }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url !== "/v1/traces" || !String(req.headers["content-type"]).includes("json")) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        resourceSpans: {
          resource: { attributes: ReceivedSpan["attributes"] };
          scopeSpans: { spans: Omit<ReceivedSpan, "service">[] }[];
        }[];
      };
      for (const rs of body.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue;
        for (const ss of rs.scopeSpans)
          for (const span of ss.spans) spans.push({ ...span, service: service as string | undefined });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const attr = (span: ReceivedSpan, key: string) => span.attributes.find((a) => a.key === key)?.value;

/** Waits until a span matching `match` has arrived (the exporter batches for up to 50 ms here). */
async function spanWhere(spans: ReceivedSpan[], match: (s: ReceivedSpan) => boolean): Promise<ReceivedSpan> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = spans.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no such span among ${spans.map((s) => s.name).join(", ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("OpenTelemetry tracing", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let sidecar: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;
  beforeAll(async () => {
    receiver = await startReceiver();
    sidecar = await startSidecarProcess({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: "rolecall-under-test",
        OTEL_BSP_SCHEDULE_DELAY: "50",
      },
    });
    clients = grpcClients(sidecar.grpcAddress);
  });
  afterAll(async () => {
    clients?.close();
    await sidecar?.stop();
    receiver?.server.close();
  });

  it("continues the caller's trace from gRPC metadata on a check, with the decision", async () => {
    const [traceId, parent] = [hex(16), hex(8)];
    const answer = await unary<{ allowed: boolean }>(
      clients.policy,
      "CheckPermission",
      { tenant_id: "demo", user_id: "dave", permission: "cxengage/CONTACTS_UPDATE" },
      { metadata: { traceparent: `00-${traceId}-${parent}-01` } },
    );
    expect(answer.allowed).toBe(false);
    const span = await spanWhere(receiver.spans, (s) => s.traceId === traceId);
    expect(span.name).toBe("rolecall.v1.PolicyService/CheckPermission");
    expect(span.parentSpanId).toBe(parent);
    expect(span.kind).toBe(2); // SERVER
    expect(span.service).toBe("rolecall-under-test");
    expect(attr(span, "rolecall.user_id")).toEqual({ stringValue: "dave" });
    expect(attr(span, "rolecall.permission")).toEqual({ stringValue: "cxengage/CONTACTS_UPDATE" });
    expect(attr(span, "rolecall.allowed")).toEqual({ boolValue: false });
  });

  it("traces a batch, and a check over Connect from the HTTP traceparent header", async () => {
    const [batchTrace, httpTrace, parent] = [hex(16), hex(16), hex(8)];
    await unary(
      clients.policy,
      "CheckPermissions",
      {
        tenant_id: "demo",
        user_id: "alice",
        items: [{ permission: "cxengage/CONTACTS_READ" }, { permission: "cxengage/CONTACTS_DELETE" }],
      },
      { metadata: { traceparent: `00-${batchTrace}-${parent}-01` } },
    );
    const http = connectClient(PolicyService, sidecar.httpUrl, {
      token: sidecar.adminToken,
      headers: { traceparent: `00-${httpTrace}-${parent}-01` },
    });
    expect(
      (await http.checkPermission({ tenantId: "demo", userId: "dave", permission: "cxengage/CONTACTS_READ" }))
        .allowed,
    ).toBe(true);
    const batch = await spanWhere(receiver.spans, (s) => s.traceId === batchTrace);
    expect(batch.name).toBe("rolecall.v1.PolicyService/CheckPermissions");
    expect(attr(batch, "rolecall.batch.items")).toEqual({ intValue: 2 });
    const viaHttp = await spanWhere(receiver.spans, (s) => s.traceId === httpTrace);
    expect(viaHttp.parentSpanId).toBe(parent);
    expect(attr(viaHttp, "rpc.system")).toEqual({ stringValue: "connect_rpc" });
  });

  it("nests the admin write in the caller's trace and records the sync apply that follows", async () => {
    const [traceId, parent] = [hex(16), hex(8)];
    const created = await unary<{ revision: string }>(
      clients.admin,
      "CreateRole",
      { tenant_id: "demo", name: "Traced Role" },
      { token: sidecar.adminToken, metadata: { traceparent: `00-${traceId}-${parent}-01` } },
    );
    const rpc = await spanWhere(receiver.spans, (s) => s.traceId === traceId && s.parentSpanId === parent);
    expect(rpc.name).toBe("rolecall.v1.AdminService/CreateRole");
    const write = await spanWhere(
      receiver.spans,
      (s) => s.name === "rolecall.admin.write" && s.traceId === traceId,
    );
    expect(write.parentSpanId).toBe(rpc.spanId);
    expect(attr(write, "rolecall.operation")).toBeDefined();
    const apply = await spanWhere(
      receiver.spans,
      (s) =>
        s.name === "rolecall.sync.apply" &&
        String(attr(s, "rolecall.revision")?.intValue) === created.revision,
    );
    expect(apply.traceId).not.toBe(traceId); // a background step, not part of the caller's request
  });

  it("traces AuthZEN evaluations from the HTTP traceparent header, refusals included", async () => {
    const post = authzenCaller(() => sidecar.httpUrl);
    const [okTrace, refusedTrace, parent] = [hex(16), hex(16), hex(8)];
    const answer = await post(
      "/tenants/demo/access/v1/evaluation",
      { subject: subject("dave"), action: action("cxengage/CONTACTS_UPDATE"), resource },
      sidecar.adminToken,
      { traceparent: `00-${okTrace}-${parent}-01` },
    );
    expect(answer.body).toMatchObject({ decision: false });
    const span = await spanWhere(receiver.spans, (s) => s.traceId === okTrace);
    expect(span.name).toBe("AuthZEN/evaluation");
    expect(span.parentSpanId).toBe(parent);
    expect(span.kind).toBe(2); // SERVER
    expect(attr(span, "rpc.system")).toEqual({ stringValue: "authzen" });
    expect(attr(span, "rolecall.allowed")).toEqual({ boolValue: false });
    // A call without a token is refused before any decision: its span says so.
    const refused = await post("/access/v1/evaluations", {}, undefined, {
      traceparent: `00-${refusedTrace}-${parent}-01`,
    });
    expect(refused.status).toBe(401);
    const failed = await spanWhere(receiver.spans, (s) => s.traceId === refusedTrace);
    expect(failed.name).toBe("AuthZEN/evaluations");
    expect(failed.status?.code).toBe(2); // ERROR
  });

  it("marks a refused call's span as an error with its gRPC status", async () => {
    const traceId = hex(16);
    await expect(
      unary(
        clients.policy,
        "CheckPermission",
        { tenant_id: "demo", user_id: "dave", permission: "" },
        {
          metadata: { traceparent: `00-${traceId}-${hex(8)}-01` },
        },
      ),
    ).rejects.toMatchObject({ code: 3 });
    const span = await spanWhere(receiver.spans, (s) => s.traceId === traceId);
    expect(span.status?.code).toBe(2); // ERROR
    expect(attr(span, "rpc.grpc.status_code")).toEqual({ intValue: 3 });
  });
});

describe("--otel", () => {
  it("refuses a value that is not an http(s) URL, naming the flag", async () => {
    const result = await rolecall(["serve", "--otel", "collector:4318", "--db", "/nonexistent/x.db"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--otel must be an http:// or https:// URL");
  });
});
