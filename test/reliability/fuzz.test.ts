/**
 * Fuzzing (issue 8, item 1): random and mutated protobuf and JSON bodies against every RPC of
 * PolicyService, CatalogService and AdminService, on the gRPC listener (raw bytes through
 * grpc-js) and the Connect listener (raw fetch, JSON and binary); and the AuthZEN endpoints of
 * the HTTP listener (authzen-fuzz.ts).
 *
 * Asserted for every request:
 * - the answer is a proper status: a decodable response, or a gRPC status / Connect JSON error
 *   with an expected code and a message (INTERNAL, UNKNOWN, an HTTP 500 or a hang fail the run);
 * - no `allowed=true` comes from malformed input: whenever a PolicyService read answers, the
 *   fields the sidecar parsed are re-sent as a clean, canonical request and must get the same
 *   decisions, and any allowed check names the demo tenant and one of its users;
 * - the process is alive and healthy after each service's run, and logged no error.
 *
 * Short variant (inside `npm test`): ROLECALL_FUZZ_RUNS (default 20) cases per RPC, listener and
 * mode, about 3,600 RPC requests and 450 AuthZEN ones. Long variant: `ROLECALL_LONG=1 npx vitest run test/reliability/fuzz.test.ts`
 * (1,000 cases each, about 250,000 requests), or set ROLECALL_FUZZ_RUNS. ROLECALL_FUZZ_SEED
 * replays a run (the seed is printed).
 */
import {
  create,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  fromJson,
  type JsonValue,
  ScalarType,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/rolecall/v1/admin_pb.js";
import { CatalogService } from "../../gen/rolecall/v1/catalog_pb.js";
import { PolicyService } from "../../gen/rolecall/v1/policy_pb.js";
import { grpcClients } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";
import { fuzzAuthzen } from "./authzen-fuzz.js";
import { EXPECTED_CONNECT_CODES, EXPECTED_GRPC_CODES, rawConnectUnary, rawGrpcUnary } from "./helpers.js";
import { LONG } from "./support.js";

const RUNS = Number(process.env.ROLECALL_FUZZ_RUNS ?? (LONG ? 1_000 : 20));
const SEED = Number(process.env.ROLECALL_FUZZ_SEED ?? Date.now() % 2 ** 31);
/** Short deadlines: a fuzzed min_revision far in the future makes a read wait until its deadline. */
const DEADLINE_MS = 400;

const DEMO_USERS = ["alice", "bob", "carol", "dave", "zoe", "max", "ines", "lena"];

// Values that reach deep into the handlers (real ids) mixed with hostile ones.
const INTERESTING_STRINGS = [
  "",
  " ",
  "demo",
  ...DEMO_USERS,
  "nobody",
  "cxengage/CONTACTS_READ",
  "cxengage/CONTACTS_UPDATE",
  "cxengage/NOTES_READ_SELF",
  "calabrio-one/view-analytics",
  "calabrio-one/analytics",
  "cxengage/contact-management-panel",
  "cxengage",
  "calabrio-one",
  "custom-agent",
  "cxengage.agent",
  "calabrio-one.administrator",
  "http://127.0.0.1/demo/?as=demo/dave",
  "javascript:alert(1)",
  "\u0000",
  "demo\u0000carol",
  "cxengage/CONTACTS_READ\u0000",
  "../../etc/passwd",
  "'; DROP TABLE users; --",
  "%s%n%x",
  "__proto__",
  "constructor",
  "ü🙂\uFFFF\uD800",
  "x".repeat(4096),
  "ZGF2ZQ",
];

const stringArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INTERESTING_STRINGS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
);
const uint64Arb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(0n) },
  { weight: 1, arbitrary: fc.constantFrom(1n, 2n ** 53n + 1n, 2n ** 64n - 1n) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) },
);
const int32Arb = fc.oneof(
  fc.constantFrom(0, 1, -1, 2 ** 31 - 1, -(2 ** 31)),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
);

function scalarArb(scalar: ScalarType): fc.Arbitrary<unknown> {
  switch (scalar) {
    case ScalarType.STRING:
      return stringArb;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.UINT64:
    case ScalarType.INT64:
      return uint64Arb;
    case ScalarType.INT32:
      return int32Arb;
    default:
      throw new Error(`no arbitrary for scalar ${scalar}`);
  }
}

function fieldArb(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "scalar":
      return scalarArb(field.scalar);
    case "enum":
      return fc.integer({ min: -1, max: 10 });
    case "message":
      // A google.protobuf.Struct field (PutSystem's system) takes a plain JSON object.
      if (field.message.typeName === "google.protobuf.Struct") {
        return fc.dictionary(stringArb, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
      }
      return initArb(field.message, depth + 1);
    case "list": {
      const element =
        field.listKind === "scalar"
          ? scalarArb(field.scalar)
          : field.listKind === "enum"
            ? fc.integer({ min: 0, max: 10 })
            : initArb(field.message, depth + 1);
      return fc.array(element, { maxLength: depth > 1 ? 1 : 4 });
    }
    default:
      throw new Error(`no arbitrary for ${field.fieldKind} field ${field.name}`);
  }
}

/** A random init object for a message schema: any subset of its fields, each a plausible or hostile value. */
function initArb(schema: DescMessage, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  if (depth > 3) return fc.constant({});
  const fields = Object.fromEntries(schema.fields.map((f) => [f.localName, fieldArb(f, depth)]));
  return fc.record(fields, { requiredKeys: [] });
}

/**
 * Requests the demo answers with allowed=true, to mutate: random fields alone almost never name
 * an allowed (tenant, user, permission), and those are the answers that matter most here.
 */
const ALLOWED_SEEDS: Readonly<Record<string, readonly Record<string, unknown>[]>> = {
  CheckPermission: [
    { tenantId: "demo", userId: "carol", permission: "cxengage/CONTACTS_UPDATE" },
    { tenantId: "demo", userId: "dave", permission: "cxengage/CONTACTS_READ" },
  ],
  ExplainPermission: [{ tenantId: "demo", userId: "carol", permission: "cxengage/CONTACTS_UPDATE" }],
  CheckPermissions: [
    {
      tenantId: "demo",
      userId: "dave",
      items: [{ permission: "cxengage/CONTACTS_READ" }, { permission: "cxengage/CONTACTS_UPDATE" }],
    },
  ],
  ListEffectivePermissions: [{ tenantId: "demo", userId: "dave", system: "cxengage" }],
  LookupUsers: [{ tenantId: "demo", permission: "cxengage/CONTACTS_UPDATE", pageSize: 2 }],
  ResolveSurfaces: [{ tenantId: "demo", userId: "carol", url: "http://127.0.0.1/demo/?as=demo/carol" }],
};

/** A well-formed request of the method's input type: random, or an allowed seed. */
function messageArb(method: DescMethod) {
  const seeds = method.parent === PolicyService ? (ALLOWED_SEEDS[method.name] ?? []) : [];
  const init =
    seeds.length > 0 ? fc.oneof(initArb(method.input), fc.constantFrom(...seeds)) : initArb(method.input);
  return init.map((i) => create(method.input, i as never));
}

/** Byte-level mutations: flip, overwrite, insert, delete, truncate, duplicate. */
type Mutation = readonly ["flip" | "set" | "insert" | "delete" | "truncate" | "dup", number, number];
const mutationsArb = fc.array(
  fc.tuple(
    fc.constantFrom("flip", "set", "insert", "delete", "truncate", "dup") as fc.Arbitrary<Mutation[0]>,
    fc.nat(),
    fc.nat(255),
  ),
  { minLength: 1, maxLength: 4 },
);

function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = [...input];
  for (const [op, at, value] of mutations) {
    const i = bytes.length === 0 ? 0 : at % bytes.length;
    if (op === "flip" && bytes.length > 0) bytes[i] = bytes[i]! ^ (1 << (value % 8));
    else if (op === "set" && bytes.length > 0) bytes[i] = value;
    else if (op === "insert") bytes.splice(i, 0, value);
    else if (op === "delete") bytes.splice(i, 1 + (value % 4));
    else if (op === "truncate") bytes = bytes.slice(0, i);
    else if (op === "dup")
      bytes = [...bytes.slice(0, i), ...bytes.slice(i, i + 1 + (value % 16)), ...bytes.slice(i)];
  }
  return Uint8Array.from(bytes);
}

/** Structural JSON mutations: a field's value replaced by any JSON value, or an unknown key added. */
function mutateJson(
  schema: DescMessage,
  valid: JsonValue,
  junk: JsonValue,
  key: string,
  pick: number,
): JsonValue {
  const obj: Record<string, JsonValue> =
    typeof valid === "object" && valid !== null && !Array.isArray(valid) ? { ...valid } : {};
  const names = schema.fields.flatMap((f) => [f.jsonName, f.name]);
  if (pick % 3 === 2) obj[key] = junk;
  else obj[names[pick % names.length] ?? key] = junk;
  return obj;
}

/** Decisions a PolicyService answer carries, to compare a fuzzed answer with a clean one. */
function decisionsOf(method: DescMethod, answer: Record<string, unknown>): unknown {
  const a = answer as never as {
    allowed?: boolean;
    reason?: number;
    results?: { allowed: boolean; reason: number }[];
    permissions?: { permission: string; allowed: boolean }[];
    userIds?: string[];
    surfaces?: { surfaceId: string; allowed: boolean }[];
  };
  switch (method.name) {
    case "CheckPermission":
    case "ExplainPermission":
      return [a.allowed, a.reason];
    case "CheckPermissions":
      return a.results?.map((r) => [r.allowed, r.reason]);
    case "ListEffectivePermissions":
      return a.permissions?.filter((p) => p.allowed).map((p) => p.permission);
    case "LookupUsers":
      return a.userIds;
    case "ResolveSurfaces":
      return a.surfaces?.filter((s) => s.allowed).map((s) => s.surfaceId);
    default:
      return undefined;
  }
}

/** Whether an answer says some check was allowed. */
function anyAllowed(method: DescMethod, answer: Record<string, unknown>): boolean {
  const d = decisionsOf(method, answer);
  if (method.name === "CheckPermission" || method.name === "ExplainPermission")
    return (d as unknown[])[0] === true;
  if (method.name === "CheckPermissions") return ((d as [boolean][] | undefined) ?? []).some((r) => r[0]);
  return false;
}

describe("fuzzing every RPC on both listeners", () => {
  let sidecar: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;
  let token: string;
  const tally = new Map<string, number>();
  const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);
  let started = 0;

  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    clients = grpcClients(sidecar.grpcAddress);
    token = sidecar.adminToken;
    fc.configureGlobal({ seed: SEED, numRuns: RUNS, endOnFailure: true });
    started = performance.now();
  });
  afterAll(async () => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const total = [...tally.values()].reduce((a, b) => a + b, 0);
    console.log(
      `fuzz: seed ${SEED}, ${RUNS} runs per RPC/listener/mode, ${total} requests in ${seconds} s`,
      Object.fromEntries([...tally].sort()),
    );
    fc.resetConfigureGlobal();
    clients?.close();
    await sidecar?.stop();
  });

  /** The service's grpc-js client (any will do for raw requests, but keep them apart). */
  const clientFor = (service: DescService): grpc.Client =>
    service === PolicyService ? clients.policy : service === CatalogService ? clients.catalog : clients.admin;

  /**
   * Re-sends the request the sidecar parsed as a clean canonical request over gRPC and checks
   * that its decisions equal the fuzzed answer's; an allowed check must name a demo user.
   */
  async function expectSameAsClean(
    method: DescMethod,
    parsed: Record<string, unknown>,
    answer: Record<string, unknown>,
  ) {
    if (method.parent !== PolicyService || method.methodKind !== "unary") return;
    if (anyAllowed(method, answer)) {
      count("allowed answers re-checked");
      const p = parsed as { tenantId?: string; userId?: string };
      expect(p.tenantId, "allowed for a tenant that is not the demo's").toBe("demo");
      expect(DEMO_USERS, "allowed for a user that is not a demo user").toContain(p.userId);
    }
    const clean = await rawGrpcUnary(
      clients.policy,
      `/${PolicyService.typeName}/${method.name}`,
      toBinary(method.input, create(method.input, parsed as never)),
      // With the admin token: a call that needs a principal (SimulateChanges) answered the fuzzed
      // request, which carried it; decisions are the same with it as without.
      { deadlineMs: 2_000, token },
    );
    expect(clean.err, `the clean request failed where the fuzzed one answered`).toBeNull();
    const cleanAnswer = fromBinary(method.output, clean.body!) as unknown as Record<string, unknown>;
    expect(decisionsOf(method, answer)).toEqual(decisionsOf(method, cleanAnswer));
  }

  async function grpcCase(method: DescMethod, bytes: Uint8Array, mode: string) {
    const path = `/${method.parent.typeName}/${method.name}`;
    const needsToken = method.parent === AdminService;
    if (method.methodKind === "server_streaming") {
      const status = await grpcStream(clientFor(method.parent), path, bytes);
      count(`grpc ${mode} ${status === grpc.status.OK ? "streamed" : grpc.status[status]}`);
      if (status !== grpc.status.OK)
        expect(EXPECTED_GRPC_CODES, `${path} answered ${status}`).toContain(status);
      return;
    }
    const res = await rawGrpcUnary(clientFor(method.parent), path, bytes, {
      ...(needsToken ? { token } : {}),
      deadlineMs: DEADLINE_MS,
    });
    if (res.err) {
      count(`grpc ${mode} ${grpc.status[res.err.code]}`);
      const asksFuture = (tryBinary(method.input, bytes)?.minRevision ?? 0n) !== 0n;
      const codes = asksFuture
        ? [...EXPECTED_GRPC_CODES, grpc.status.DEADLINE_EXCEEDED]
        : [...EXPECTED_GRPC_CODES];
      expect(codes, `${path} answered ${grpc.status[res.err.code]}: ${res.err.details}`).toContain(
        res.err.code,
      );
      expect(res.err.details.length, `${path} error without a message`).toBeGreaterThan(0);
      return;
    }
    count(`grpc ${mode} OK`);
    const answer = fromBinary(method.output, res.body!) as unknown as Record<string, unknown>;
    const parsed = fromBinary(method.input, bytes) as unknown as Record<string, unknown>;
    await expectSameAsClean(method, parsed, answer);
  }

  async function connectCase(method: DescMethod, body: Uint8Array | string, binary: boolean, mode: string) {
    const path = `/${method.parent.typeName}/${method.name}`;
    if (method.methodKind === "server_streaming") {
      const outcome = await connectStream(sidecar.httpUrl, path, body, binary, token);
      count(`connect ${mode} ${outcome}`);
      // A body without exactly one message is a protocol error that Connect answers UNIMPLEMENTED.
      const ok = outcome === "streamed" || outcome === "unimplemented" || EXPECTED_CONNECT_CODES.has(outcome);
      expect(ok, `${path} answered ${outcome}`).toBe(true);
      return;
    }
    const res = await rawConnectUnary(sidecar.httpUrl, path, body, {
      token,
      contentType: binary ? "application/proto" : "application/json",
      timeoutMs: DEADLINE_MS,
    });
    if (res.status !== 200) {
      expect(res.contentType, `${path}: HTTP ${res.status} without a Connect error body`).toContain(
        "application/json",
      );
      const error = JSON.parse(res.body.toString("utf8")) as { code?: string; message?: string };
      count(`connect ${mode} ${error.code}`);
      expect([...EXPECTED_CONNECT_CODES], `${path}: ${res.status} ${res.body}`).toContain(error.code);
      expect(error.message ?? "", `${path} error without a message`).not.toBe("");
      return;
    }
    count(`connect ${mode} OK`);
    const answer = (binary
      ? fromBinary(method.output, res.body)
      : fromJson(method.output, JSON.parse(res.body.toString("utf8")) as JsonValue)) as unknown as Record<
      string,
      unknown
    >;
    const parsed = (
      binary ? tryBinary(method.input, body as Uint8Array) : tryJson(method.input, body as string)
    ) as Record<string, unknown> | undefined;
    expect(parsed, `${path} answered a body protobuf-es cannot parse`).toBeDefined();
    await expectSameAsClean(method, parsed!, answer);
  }

  async function expectHealthy() {
    expect(sidecar.child.exitCode, "the sidecar exited").toBeNull();
    expect(sidecar.child.signalCode, "the sidecar was killed").toBeNull();
    const health = await fetch(`${sidecar.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    const check = await rawGrpcUnary(
      clients.policy,
      "/rolecall.v1.PolicyService/CheckPermission",
      toBinary(
        PolicyService.method.checkPermission.input,
        create(PolicyService.method.checkPermission.input, {
          tenantId: "demo",
          userId: "dave",
          permission: "cxengage/CONTACTS_UPDATE",
        }),
      ),
    );
    expect(check.err).toBeNull();
    // An INTERNAL answer is logged at error level ("call failed"): none may appear.
    expect(sidecar.output()).not.toMatch(/"level":50/);
  }

  // Regressions the fuzzer found, pinned with the exact inputs.
  it("regression: an unparsable binary Connect body is invalid_argument (was internal, HTTP 500)", async () => {
    const garbage = Uint8Array.from([12, 49, 238, 111, 151, 244, 128, 201]);
    for (const path of [
      "/rolecall.v1.CatalogService/ListSystems",
      "/rolecall.v1.PolicyService/CheckPermission",
    ]) {
      const res = await rawConnectUnary(sidecar.httpUrl, path, garbage, {
        token,
        contentType: "application/proto",
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body.toString())).toMatchObject({
        code: "invalid_argument",
        message: expect.stringContaining("not a valid protobuf message"),
      });
    }
    // The same in a server stream's end-of-stream message.
    const framed = Buffer.concat([envelopeHeader(0, 3), Buffer.from([12, 49, 238])]);
    const outcome = await connectStream(
      sidecar.httpUrl,
      "/rolecall.v1.PolicyService/WatchPolicy",
      framed,
      true,
      token,
    );
    expect(outcome).toBe("invalid_argument");
  });

  it("regression: an unparsable WatchPolicy request on gRPC gets INVALID_ARGUMENT at once (was no status until the deadline)", async () => {
    const started = performance.now();
    const status = await grpcStream(
      clients.policy,
      "/rolecall.v1.PolicyService/WatchPolicy",
      Uint8Array.from([164, 7, 49]),
    );
    expect(status).toBe(grpc.status.INVALID_ARGUMENT);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("sends the unmutated allowed seeds through the same checks, so the oracle is exercised", async () => {
    for (const [name, seeds] of Object.entries(ALLOWED_SEEDS)) {
      const method = PolicyService.methods.find((m) => m.name === name)!;
      for (const seed of seeds) {
        const msg = create(method.input, seed as never);
        await grpcCase(method, toBinary(method.input, msg), "seed");
        await connectCase(method, JSON.stringify(toJson(method.input, msg)), false, "seed");
      }
    }
    expect(tally.get("allowed answers re-checked")).toBeGreaterThanOrEqual(8);
  });

  async function fuzzService(service: DescService) {
    for (const method of service.methods) {
      const schema = method.input;
      const label = `${service.typeName}/${method.name}`;
      // gRPC: arbitrary bytes, then mutated valid encodings.
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), (bytes) =>
          grpcCase(method, bytes, "random-bytes"),
        ),
        { reporter: reporterFor(`${label} grpc random bytes`) },
      );
      await fc.assert(
        fc.asyncProperty(messageArb(method), mutationsArb, (msg, m) =>
          grpcCase(method, mutate(toBinary(schema, msg), m), "mutated-proto"),
        ),
        { reporter: reporterFor(`${label} grpc mutated protobuf`) },
      );
      // Connect: arbitrary JSON, structurally and textually mutated valid JSON, arbitrary and mutated binary.
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), (json) =>
          connectCase(method, JSON.stringify(json) ?? "null", false, "random-json"),
        ),
        { reporter: reporterFor(`${label} connect random JSON`) },
      );
      await fc.assert(
        fc.asyncProperty(
          messageArb(method),
          fc.jsonValue({ maxDepth: 2 }),
          fc.string({ maxLength: 12 }),
          fc.nat(),
          (msg, junk, key, pick) =>
            connectCase(
              method,
              JSON.stringify(mutateJson(schema, toJson(schema, msg), junk as JsonValue, key, pick)),
              false,
              "mutated-json",
            ),
        ),
        { reporter: reporterFor(`${label} connect mutated JSON`) },
      );
      await fc.assert(
        fc.asyncProperty(messageArb(method), mutationsArb, (msg, m) =>
          connectCase(
            method,
            Buffer.from(mutate(Buffer.from(JSON.stringify(toJson(schema, msg))), m)).toString("latin1"),
            false,
            "mutated-json-text",
          ),
        ),
        { reporter: reporterFor(`${label} connect mutated JSON text`) },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ maxLength: 256 }),
            fc.tuple(messageArb(method), mutationsArb).map(([msg, m]) => mutate(toBinary(schema, msg), m)),
          ),
          (bytes) => connectCase(method, bytes, true, "binary"),
        ),
        { reporter: reporterFor(`${label} connect binary`) },
      );
    }
    await expectHealthy();
  }

  // Catalog and policy reads first: the admin run writes to the store and would race the
  // clean re-checks.
  it("CatalogService", { timeout: LONG ? 3_600_000 : 60_000 }, () => fuzzService(CatalogService));
  it("PolicyService", { timeout: LONG ? 3_600_000 : 60_000 }, () => fuzzService(PolicyService));
  it("AdminService (with the admin token)", { timeout: LONG ? 3_600_000 : 60_000 }, () =>
    fuzzService(AdminService),
  );
  it("AuthZEN endpoints (with the admin token)", { timeout: LONG ? 3_600_000 : 60_000 }, async () => {
    await fuzzAuthzen({ httpUrl: sidecar.httpUrl, token, runs: RUNS, count });
    await expectHealthy();
  });
});

/** fast-check's default reporter, with the RPC and mode named. */
function reporterFor<T>(label: string) {
  return (details: fc.RunDetails<T>) => {
    if (!details.failed) return;
    const cause =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`${label}: ${cause}\n${fc.defaultReportMessage(details)}`);
  };
}

function tryBinary(schema: DescMessage, bytes: Uint8Array): { minRevision?: bigint } | undefined {
  try {
    return fromBinary(schema, bytes) as { minRevision?: bigint };
  } catch {
    return undefined;
  }
}

function tryJson(schema: DescMessage, text: string): unknown {
  try {
    return fromJson(schema, JSON.parse(text) as JsonValue, { ignoreUnknownFields: true });
  } catch {
    return undefined;
  }
}

/** Opens a server stream with raw bytes; resolves with the status, or OK once a message arrived. */
function grpcStream(client: grpc.Client, path: string, bytes: Uint8Array): Promise<grpc.status> {
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(
      path,
      (x: Buffer) => x,
      (x: Buffer) => x,
      Buffer.from(bytes),
      new grpc.Metadata(),
      { deadline: Date.now() + 2_000 },
    );
    const done = (status: grpc.status) => {
      resolve(status);
      call.cancel();
    };
    call.on("data", () => done(grpc.status.OK));
    call.on("error", (err: grpc.ServiceError) => done(err.code));
    call.on("end", () => done(grpc.status.OK));
  });
}

/**
 * Opens a Connect server stream via fetch. Resolves "streamed" once a message arrived, or the
 * error's Connect code (from the JSON error or the end-of-stream envelope).
 */
async function connectStream(
  baseUrl: string,
  path: string,
  body: Uint8Array | string,
  binary: boolean,
  token: string,
): Promise<string> {
  const payload = typeof body === "string" ? Buffer.from(body, "latin1") : Buffer.from(body);
  // Random binary goes as it is (no valid envelope); JSON goes enveloped, so the JSON itself is fuzzed.
  const framed = binary ? payload : Buffer.concat([envelopeHeader(0, payload.length), payload]);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 3_000);
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers: {
        "content-type": binary ? "application/connect+proto" : "application/connect+json",
        "connect-protocol-version": "1",
        authorization: `Bearer ${token}`,
      },
      body: framed,
      signal: abort.signal,
    });
    if (res.status !== 200) {
      const error = (await res.json()) as { code?: string; message?: string };
      return error.message ? String(error.code) : `HTTP ${res.status} without a message`;
    }
    const reader = res.body!.getReader();
    let buffered = Buffer.alloc(0);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "stream ended without an end-of-stream message";
      buffered = Buffer.concat([buffered, value]);
      while (buffered.length >= 5) {
        const flags = buffered[0]!;
        const length = buffered.readUInt32BE(1);
        if (buffered.length < 5 + length) break;
        const message = buffered.subarray(5, 5 + length);
        buffered = buffered.subarray(5 + length);
        if ((flags & 0x02) === 0) return "streamed";
        const end = JSON.parse(message.toString("utf8")) as { error?: { code?: string; message?: string } };
        if (!end.error) return "stream ended without a message";
        return end.error.message ? String(end.error.code) : "end-of-stream error without a message";
      }
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

function envelopeHeader(flags: number, length: number): Buffer {
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(length, 1);
  return header;
}
