/**
 * Fuzzing the AuthZEN endpoints (fuzz.test.ts runs it beside the RPC fuzzing): random JSON,
 * AuthZEN-shaped requests with hostile values, structurally and textually mutated ones, against
 * every endpoint, on the per-tenant and the bare paths.
 *
 * Asserted for every request: an expected HTTP status (never 500 or a hang) with a message; a
 * 200 of the spec's shape; and no `decision: true` from malformed input — every allowed
 * evaluation names a demo user and is allowed by a clean CheckPermission of the same user,
 * permission and resource over Connect.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { PolicyService } from "../../gen/rolecall/v1/policy_pb.js";
import { connectClient } from "../support/clients.js";

type Json = Record<string, unknown>;

/** Statuses a well-behaved AuthZEN endpoint answers bad input with. */
const EXPECTED_STATUSES = new Set([200, 400, 401, 403, 404, 413, 415]);

const DEMO_USERS = ["alice", "bob", "carol", "dave", "zoe", "max", "ines", "lena"];
const SYSTEMS = ["cxengage", "calabrio-one", "iadvize", "maxcontact", "zoom-contact-center"];

const strings = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "",
      "user",
      "group",
      "demo",
      ...DEMO_USERS,
      "nobody",
      "CONTACTS_READ",
      "CONTACTS_UPDATE",
      "cxengage/CONTACTS_UPDATE",
      "cxengage/ARTIFACTS_READ_SELF",
      "ARTIFACTS_READ_SELF",
      "access-to-reports",
      "calabrio-one/view-analytics",
      "__proto__",
      "constructor",
      "\u0000",
      "ü🙂\uFFFF\uD800",
      "x".repeat(2048),
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);
const anyJson = fc.jsonValue({ maxDepth: 2 });
const entity = (nameKey: "id" | "name") =>
  fc.record(
    {
      type: fc.oneof(fc.constant("user"), strings),
      [nameKey]: strings,
      properties: fc.oneof(
        fc.record(
          {
            ownerID: fc.oneof(strings, anyJson),
            owner_id: strings,
            participants: fc.oneof(fc.array(strings, { maxLength: 3 }), anyJson),
          },
          { requiredKeys: [] },
        ),
        anyJson,
      ),
    },
    { requiredKeys: [] },
  );
const hostileTuple = fc.record(
  {
    subject: fc.oneof(entity("id"), anyJson),
    action: fc.oneof(entity("name"), anyJson),
    resource: fc.oneof(entity("id"), anyJson),
    context: anyJson,
  },
  { requiredKeys: [] },
);
const demoUser = fc.constantFrom(...DEMO_USERS);
/** Well-formed tuples about demo users and real actions: the answers worth re-checking. */
const plausibleTuple = fc.record(
  {
    subject: fc.record({ type: fc.constant("user"), id: fc.oneof(demoUser, strings) }),
    action: fc.record({
      name: fc.constantFrom(
        "CONTACTS_READ",
        "CONTACTS_UPDATE",
        "cxengage/CONTACTS_UPDATE",
        "ARTIFACTS_READ_SELF",
        "cxengage/ARTIFACTS_READ_ALL",
        "access-to-reports",
        "calabrio-one/view-analytics",
      ),
    }),
    resource: fc.record(
      {
        type: fc.constantFrom("contact", "user", "artifact"),
        id: fc.oneof(demoUser, fc.constant("r-1")),
        properties: fc.record(
          { ownerID: demoUser, participants: fc.array(demoUser, { maxLength: 2 }) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ["type", "id"] },
    ),
  },
  { requiredKeys: ["subject", "action", "resource"] },
);
const tuple = fc.oneof({ weight: 3, arbitrary: plausibleTuple }, { weight: 1, arbitrary: hostileTuple });
/** AuthZEN-shaped requests: a tuple, a boxcar with defaults and options, a search with a page. */
const requests: fc.Arbitrary<Json> = fc.oneof(
  tuple,
  fc.record(
    {
      subject: fc.oneof(
        plausibleTuple.map((t) => t.subject),
        entity("id"),
      ),
      action: fc.oneof(
        plausibleTuple.map((t) => t.action),
        entity("name"),
      ),
      resource: fc.oneof(
        plausibleTuple.map((t) => t.resource),
        entity("id"),
      ),
      evaluations: fc.oneof(fc.array(tuple, { maxLength: 5 }), anyJson),
      options: fc.oneof(
        fc.record({
          evaluations_semantic: fc.oneof(
            fc.constantFrom("execute_all", "deny_on_first_deny", "permit_on_first_permit"),
            anyJson,
          ),
        }),
        anyJson,
      ),
    },
    { requiredKeys: ["evaluations"] },
  ),
  fc
    .tuple(
      tuple,
      fc.record(
        { next_token: fc.oneof(strings, anyJson), limit: fc.oneof(fc.integer(), anyJson) },
        { requiredKeys: [] },
      ),
    )
    .map(([t, page]) => ({ ...t, page })),
);

/** A request with one key (at the top or in an entity) replaced by any JSON value. */
const mutated = fc
  .tuple(requests, anyJson, fc.nat(), fc.string({ maxLength: 8 }))
  .map(([req, junk, pick, key]) => {
    const copy: Json = structuredClone(req);
    const keys = Object.keys(copy);
    const target = keys.length === 0 ? key : keys[pick % keys.length]!;
    const inner = copy[target];
    if (pick % 2 === 0 && typeof inner === "object" && inner !== null && !Array.isArray(inner)) {
      const innerKeys = Object.keys(inner);
      (inner as Json)[innerKeys[pick % Math.max(1, innerKeys.length)] ?? key] = junk;
    } else copy[target] = junk;
    return copy;
  });

/** Bytes of a valid-looking request with a few characters flipped, dropped or doubled. */
const garbledText = fc
  .tuple(requests, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }))
  .map(([req, edits]) => {
    const chars = [...JSON.stringify(req)];
    for (const [at, value] of edits) {
      const i = chars.length === 0 ? 0 : at % chars.length;
      if (value % 3 === 0) chars.splice(i, 1);
      else if (value % 3 === 1) chars.splice(i, 0, String.fromCharCode(value));
      else chars.splice(i, 0, ...chars.slice(i, i + 3));
    }
    return chars.join("");
  });

const ENDPOINTS = ["evaluation", "evaluations", "search/subject", "search/action", "search/resource"];

/** What the fuzz needs of the sidecar under test. */
export interface AuthzenFuzzTarget {
  readonly httpUrl: string;
  readonly token: string;
  readonly runs: number;
  /** Counts outcomes, for the run's summary line. */
  readonly count: (key: string) => void;
}

/** The allowed evaluations of an answer, with the tuple (after defaults) each answers. */
function allowedTuples(endpoint: string, body: Json, answer: Json): Json[] {
  if (endpoint === "evaluation" || (endpoint === "evaluations" && !Array.isArray(body.evaluations))) {
    return answer.decision === true ? [body] : [];
  }
  if (endpoint !== "evaluations") return [];
  const items = body.evaluations as Json[];
  const out: Json[] = [];
  for (const [i, a] of ((answer.evaluations as Json[]) ?? []).entries()) {
    if (a.decision !== true) continue;
    const item = items[i]!;
    out.push({
      subject: item.subject ?? body.subject,
      action: item.action ?? body.action,
      resource: item.resource ?? body.resource,
    });
  }
  return out;
}

/** Runs the AuthZEN fuzz against a running demo sidecar. */
export async function fuzzAuthzen(target: AuthzenFuzzTarget): Promise<void> {
  const policy = connectClient(PolicyService, target.httpUrl, { token: target.token });

  let checked = 0;
  const expectCleanAllows = async (t: Json) => {
    checked++;
    target.count("authzen allowed re-checked");
    const subject = t.subject as Json;
    const name = (t.action as Json).name as string;
    const props = ((t.resource as Json).properties ?? {}) as Json;
    expect(DEMO_USERS, "allowed for a user who is not a demo user").toContain(subject.id);
    const owner = (props.ownerID ?? props.owner_id ?? "") as string;
    const participants = (props.participants ?? []) as string[];
    const scoped = owner !== "" || participants.length > 0;
    const candidates = name.includes("/") ? [name] : SYSTEMS.map((s) => `${s}/${name}`);
    let allowed = false;
    for (const permission of candidates) {
      const res = await policy
        .checkPermission({
          tenantId: "demo",
          userId: subject.id as string,
          permission,
          ...(scoped ? { resource: { ownerUserId: owner, participantUserIds: participants } } : {}),
        })
        .catch(() => undefined);
      allowed ||= res?.allowed === true;
    }
    expect(allowed, `a clean check does not allow ${JSON.stringify(t)}`).toBe(true);
  };

  const send = async (path: string, text: string) => {
    const res = await fetch(`${target.httpUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${target.token}` },
      body: text,
      signal: AbortSignal.timeout(5_000),
    });
    const body = await res.text();
    target.count(`authzen ${res.status}`);
    expect(EXPECTED_STATUSES, `${path} answered ${res.status}: ${body}`).toContain(res.status);
    if (res.status !== 200) {
      expect(body.trim(), `${path} ${res.status} without a message`).not.toBe("");
      return undefined;
    }
    return JSON.parse(body) as Json;
  };

  /**
   * Tuples a clean check allows now (the AdminService fuzz before this may have changed the
   * demo's grants), sent first to each decision endpoint, as the RPC fuzz sends its allowed
   * seeds: the oracle runs whatever the random draws allow.
   */
  const allowedSeeds: Json[] = [];
  for (const user of DEMO_USERS) {
    for (const permission of ["cxengage/CONTACTS_READ", "cxengage/CONTACTS_UPDATE"]) {
      const res = await policy
        .checkPermission({ tenantId: "demo", userId: user, permission })
        .catch(() => undefined);
      if (res?.allowed === true)
        allowedSeeds.push({
          subject: { type: "user", id: user },
          action: { name: permission },
          resource: { type: "contact", id: "r-1" },
        });
    }
  }

  for (const endpoint of ENDPOINTS) {
    const path = `/tenants/demo/access/v1/${endpoint}`;
    const check = async (text: string) => {
      const answer = await send(path, text);
      if (answer === undefined) return;
      if (endpoint.startsWith("search/")) {
        expect(Array.isArray(answer.results), `${path}: results is not an array`).toBe(true);
        expect(typeof (answer.page as Json).next_token).toBe("string");
        return;
      }
      const body = JSON.parse(text) as Json;
      for (const t of allowedTuples(endpoint, body, answer)) await expectCleanAllows(t);
    };
    if (!endpoint.startsWith("search/")) for (const seed of allowedSeeds) await check(JSON.stringify(seed));
    await fc.assert(
      fc.asyncProperty(anyJson, (v) => check(JSON.stringify(v) ?? "null")),
      { numRuns: target.runs },
    );
    await fc.assert(
      fc.asyncProperty(requests, (r) => check(JSON.stringify(r))),
      { numRuns: target.runs },
    );
    await fc.assert(
      fc.asyncProperty(mutated, (r) => check(JSON.stringify(r))),
      { numRuns: target.runs },
    );
    await fc.assert(
      fc.asyncProperty(garbledText, (t) => send(path, t).then(() => undefined)),
      { numRuns: target.runs },
    );
    // The bare path with the bootstrap token names no tenant: always a 400, never a decision.
    await fc.assert(
      fc.asyncProperty(requests, async (r) => {
        const answer = await send(`/access/v1/${endpoint}`, JSON.stringify(r));
        expect(answer).toBeUndefined();
      }),
      { numRuns: Math.max(1, Math.floor(target.runs / 4)) },
    );
  }
  // The oracle ran: some evaluations were allowed and re-checked.
  expect(allowedSeeds.length, "no demo user is allowed to read contacts any more").toBeGreaterThan(0);
  expect(checked).toBeGreaterThan(0);
  // The metadata document under hostile tenant segments.
  await fc.assert(
    fc.asyncProperty(strings, async (tenant) => {
      let segment: string;
      try {
        segment = encodeURIComponent(tenant);
      } catch {
        return; // a lone surrogate has no percent-encoding
      }
      const res = await fetch(`${target.httpUrl}/.well-known/authzen-configuration/tenants/${segment}`);
      target.count(`authzen metadata ${res.status}`);
      expect([200, 404]).toContain(res.status);
      await res.arrayBuffer();
    }),
    { numRuns: target.runs },
  );
}
