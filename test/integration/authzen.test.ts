/**
 * AuthZEN 1.0 as a standard PEP meets it: a real sidecar on the demo database, plain HTTP with
 * fetch, tokens made by the `rolecall token create` command. Evaluations (dave lacks
 * CONTACTS_UPDATE), the three boxcar semantics, the searches, the metadata document, the errors.
 * What service tokens may and may not do: authzen-service-tokens.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  action,
  authzenCaller,
  createToken,
  type Json,
  resource,
  subject,
  untilAccepted,
} from "../support/authzen.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const DEMO_USERS = ["alice", "bob", "carol", "dave", "ines", "lena", "max", "zoe"];

describe("AuthZEN 1.0 over HTTP", () => {
  let sidecar: SidecarProcess;
  let gateway: string; // service token, decisions only
  let explainer: string; // service token with --explanations
  let dave: string; // dave's own token
  let bootstrap: string;

  const post = authzenCaller(() => sidecar.httpUrl);
  const evaluation = (body: unknown, token = gateway) => post("/access/v1/evaluation", body, token);
  const evaluations = (body: unknown, token = gateway) => post("/access/v1/evaluations", body, token);

  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    bootstrap = sidecar.adminToken;
    gateway = await createToken(sidecar.dbPath, "--tenant", "demo", "--service", "gateway");
    explainer = await createToken(
      sidecar.dbPath,
      "--tenant",
      "demo",
      "--service",
      "support-desk",
      "--explanations",
    );
    dave = await createToken(sidecar.dbPath, "--tenant", "demo", "--user", "dave");
    await untilAccepted(post, dave);
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  describe("metadata", () => {
    it("publishes the endpoints without a token, bare and per tenant", async () => {
      const bare = await fetch(`${sidecar.httpUrl}/.well-known/authzen-configuration`);
      expect(bare.status).toBe(200);
      expect(bare.headers.get("content-type")).toBe("application/json");
      const base = sidecar.httpUrl;
      expect(await bare.json()).toEqual({
        policy_decision_point: base,
        access_evaluation_endpoint: `${base}/access/v1/evaluation`,
        access_evaluations_endpoint: `${base}/access/v1/evaluations`,
        search_subject_endpoint: `${base}/access/v1/search/subject`,
        search_action_endpoint: `${base}/access/v1/search/action`,
        search_resource_endpoint: `${base}/access/v1/search/resource`,
      });
      const perTenant = await fetch(`${base}/.well-known/authzen-configuration/tenants/demo`);
      const doc = (await perTenant.json()) as Json;
      expect(doc.policy_decision_point).toBe(`${base}/tenants/demo`);
      expect(doc.access_evaluation_endpoint).toBe(`${base}/tenants/demo/access/v1/evaluation`);
      // The advertised endpoint answers.
      const res = await post(
        new URL(doc.access_evaluations_endpoint as string).pathname,
        {
          evaluations: [{ subject: subject("alice"), action: action("cxengage/CONTACTS_UPDATE"), resource }],
        },
        gateway,
      );
      expect(res.body).toEqual({ evaluations: [{ decision: true }] });
    });
  });

  describe("evaluation", () => {
    it("answers dave's CONTACTS_UPDATE with decision false and the reason code, alice's with true", async () => {
      const denied = await evaluation({
        subject: subject("dave"),
        action: action("cxengage/CONTACTS_UPDATE"),
        resource,
        context: { time: "2026-12-03T12:00:00Z" },
      });
      expect(denied.status).toBe(200);
      // A service token without --explanations gets the code, not the explanation.
      expect(denied.body).toEqual({ decision: false, context: { reason: "NOT_GRANTED" } });
      const allowed = await evaluation({
        subject: subject("alice"),
        action: action("CONTACTS_UPDATE"),
        resource,
      });
      expect(allowed.body).toEqual({ decision: true });
    });

    it("adds the explanation's summary for principals that may read explanations", async () => {
      const req = { subject: subject("dave"), action: action("CONTACTS_UPDATE"), resource };
      for (const token of [explainer, dave]) {
        const res = await evaluation(req, token);
        expect(res.body).toMatchObject({
          decision: false,
          context: { reason: "NOT_GRANTED", reason_admin: { en: expect.stringContaining("Custom Agent") } },
        });
      }
      const asBootstrap = await post("/tenants/demo/access/v1/evaluation", req, bootstrap);
      expect(asBootstrap.body).toMatchObject({ context: { reason_admin: { en: expect.any(String) } } });
    });

    it("feeds the resource's owner and participants to the scope rule", async () => {
      const artifact = (properties: Json) => ({
        subject: subject("dave"),
        action: action("ARTIFACTS_READ_SELF"),
        resource: { type: "artifact", id: "a-1", properties },
      });
      expect((await evaluation(artifact({ ownerID: "dave" }))).body).toEqual({ decision: true });
      expect((await evaluation(artifact({ owner_id: "bob", participants: ["dave"] }))).body).toEqual({
        decision: true,
      });
      expect((await evaluation(artifact({ ownerID: "bob" }))).body).toEqual({
        decision: false,
        context: { reason: "OUT_OF_SCOPE" },
      });
    });

    it("echoes X-Request-ID, on answers and on errors", async () => {
      const ok = await post(
        "/access/v1/evaluation",
        { subject: subject("dave"), action: action("CONTACTS_READ"), resource },
        gateway,
        { "x-request-id": "bfe9eb29-ab87-4ca3-be83-a1d5d8305716" },
      );
      expect(ok.headers.get("x-request-id")).toBe("bfe9eb29-ab87-4ca3-be83-a1d5d8305716");
      const refused = await post("/access/v1/evaluation", "{}", undefined, { "x-request-id": "req 42" });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("x-request-id")).toBe("req 42");
    });
  });

  describe("evaluations", () => {
    // CONTACTS_READ is granted to dave, CONTACTS_UPDATE is not.
    const batch = (semantic?: string) => ({
      subject: subject("dave"),
      resource,
      ...(semantic === undefined ? {} : { options: { evaluations_semantic: semantic } }),
      evaluations: [
        { action: action("CONTACTS_READ") },
        { action: action("CONTACTS_UPDATE") },
        { action: action("CONTACTS_READ") },
      ],
    });
    const denial = { decision: false, context: { reason: "NOT_GRANTED" } };

    it("executes all by default and with execute_all, in request order", async () => {
      const all = [{ decision: true }, denial, { decision: true }];
      expect((await evaluations(batch())).body).toEqual({ evaluations: all });
      expect((await evaluations(batch("execute_all"))).body).toEqual({ evaluations: all });
    });

    it("stops at the first denial with deny_on_first_deny, at the first permit with permit_on_first_permit", async () => {
      expect((await evaluations(batch("deny_on_first_deny"))).body).toEqual({
        evaluations: [{ decision: true }, denial],
      });
      expect((await evaluations(batch("permit_on_first_permit"))).body).toEqual({
        evaluations: [{ decision: true }],
      });
      const denyFirst = { ...batch("permit_on_first_permit"), evaluations: batch().evaluations.slice(1) };
      expect((await evaluations(denyFirst)).body).toEqual({ evaluations: [denial, { decision: true }] });
    });

    it("lets an item override the top-level defaults, and answers a request without evaluations as one", async () => {
      const res = await evaluations({
        subject: subject("dave"),
        action: action("CONTACTS_UPDATE"),
        resource,
        evaluations: [{}, { subject: subject("alice") }],
      });
      expect(res.body).toEqual({ evaluations: [denial, { decision: true }] });
      const single = await evaluations({
        subject: subject("alice"),
        action: action("CONTACTS_UPDATE"),
        resource,
      });
      expect(single.body).toEqual({ decision: true });
    });

    it("answers an item's own error in its place, and counts it as a denial for deny_on_first_deny", async () => {
      const body = {
        subject: subject("dave"),
        resource,
        evaluations: [{ action: action("CONTACT_READ") }, { action: action("CONTACTS_READ") }],
      };
      const res = await evaluations(body);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        evaluations: [
          {
            decision: false,
            context: {
              error: {
                status: 400,
                message:
                  "action 'CONTACT_READ' is not a permission of tenant 'demo'; did you mean 'cxengage/CONTACTS_READ'?",
              },
            },
          },
          { decision: true },
        ],
      });
      const stopped = await evaluations({ ...body, options: { evaluations_semantic: "deny_on_first_deny" } });
      expect((stopped.body as Json).evaluations).toHaveLength(1);
    });

    it("refuses more than 1,000 evaluations and an unknown semantic as a whole (400)", async () => {
      const many = {
        subject: subject("dave"),
        action: action("CONTACTS_READ"),
        resource,
        evaluations: Array.from({ length: 1001 }, () => ({})),
      };
      const res = await evaluations(many);
      expect(res.status).toBe(400);
      expect(res.body).toContain("at most 1000");
      const thousand = await evaluations({ ...many, evaluations: many.evaluations.slice(1) });
      expect((thousand.body as { evaluations: unknown[] }).evaluations).toHaveLength(1000);
      const odd = await evaluations({ ...batch(), options: { evaluations_semantic: "deny_all" } });
      expect(odd.status).toBe(400);
      expect(odd.body).toContain("execute_all, deny_on_first_deny, permit_on_first_permit");
    });
  });

  describe("search", () => {
    it("pages the users allowed an action; each evaluates to true, the others to false", async () => {
      const found: string[] = [];
      let token = "";
      for (let pages = 0; pages < 10; pages++) {
        const res = await post(
          "/access/v1/search/subject",
          {
            subject: { type: "user" },
            action: action("cxengage/CONTACTS_UPDATE"),
            resource,
            page: { limit: 2, ...(token === "" ? {} : { next_token: token }) },
          },
          gateway,
        );
        expect(res.status).toBe(200);
        const body = res.body as { results: { type: string; id: string }[]; page: { next_token: string } };
        expect(body.results.length).toBeLessThanOrEqual(2);
        found.push(...body.results.map((r) => r.id));
        token = body.page.next_token;
        if (token === "") break;
      }
      expect(found).toContain("alice");
      expect(found).not.toContain("dave");
      const answers = await evaluations({
        action: action("cxengage/CONTACTS_UPDATE"),
        resource,
        evaluations: DEMO_USERS.map((id) => ({ subject: subject(id) })),
      });
      const allowed = DEMO_USERS.filter(
        (_, i) => (answers.body as { evaluations: { decision: boolean }[] }).evaluations[i]!.decision,
      );
      expect(found).toEqual(allowed);
    });

    it("lists the actions a user may take; every one evaluates to true", async () => {
      const res = await post(
        "/access/v1/search/action",
        {
          subject: subject("dave"),
          resource: { type: "artifact", id: "a-1", properties: { ownerID: "bob" } },
        },
        gateway,
      );
      const names = (res.body as { results: { name: string }[] }).results.map((r) => r.name);
      expect(names).toContain("cxengage/CONTACTS_READ");
      expect(names).not.toContain("cxengage/CONTACTS_UPDATE");
      // Scope counts: bob's artifact is out of dave's _SELF reach.
      expect(names).not.toContain("cxengage/ARTIFACTS_READ_SELF");
      expect((res.body as Json).page).toEqual({ next_token: "" });
      const check = await evaluations({
        subject: subject("dave"),
        resource: { type: "artifact", id: "a-1", properties: { ownerID: "bob" } },
        evaluations: names.map((name) => ({ action: action(name) })),
      });
      const decisions = (check.body as { evaluations: { decision: boolean }[] }).evaluations;
      expect(decisions.every((d) => d.decision)).toBe(true);
    });

    it("answers resource search with an empty page: rolecall keeps no inventory of resources", async () => {
      const res = await post(
        "/access/v1/search/resource",
        { subject: subject("dave"), action: action("CONTACTS_READ"), resource: { type: "contact" } },
        gateway,
      );
      expect(res.body).toEqual({ results: [], page: { next_token: "" } });
    });

    it("refuses a page token it did not issue", async () => {
      const res = await post(
        "/access/v1/search/action",
        { subject: subject("dave"), resource, page: { next_token: "not*base64" } },
        gateway,
      );
      expect(res.status).toBe(400);
      expect(res.body).toContain("page.next_token");
    });
  });

  describe("errors are statuses, not decisions", () => {
    const req = { subject: subject("dave"), action: action("CONTACTS_READ"), resource };

    it("400 for bad JSON, a missing field, an unknown action (with the closest key) and a foreign subject type", async () => {
      const bad = await evaluation("{not json");
      expect(bad.status).toBe(400);
      expect(bad.body).toContain("not JSON");
      const missing = await evaluation({ subject: subject("dave"), resource });
      expect(missing.status).toBe(400);
      expect(missing.body).toContain("request.action is required");
      const unknown = await evaluation({ ...req, action: action("cxengage/CONTACT_UPDATE") });
      expect(unknown.status).toBe(400);
      expect(unknown.body).toContain("did you mean 'cxengage/CONTACTS_UPDATE'?");
      const group = await evaluation({ ...req, subject: { type: "group", id: "agents" } });
      expect(group.status).toBe(400);
      expect(group.body).toContain("subject.type 'group' is not supported");
    });

    it("401 without a token or with an unknown one, 415 for a body that is not JSON", async () => {
      const none = await post("/access/v1/evaluation", req);
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toBe("Bearer");
      expect((await evaluation(req, "rc_not_a_token")).status).toBe(401);
      const form = await post("/access/v1/evaluation", JSON.stringify(req), gateway, {
        "content-type": "application/x-www-form-urlencoded",
      });
      expect(form.status).toBe(415);
    });

    it("403 for another tenant's path, and for a user asking about someone else", async () => {
      const other = await post("/tenants/acme/access/v1/evaluation", req, gateway);
      expect(other.status).toBe(403);
      expect(other.body).toContain("may not ask about tenant 'acme'");
      const nosy = await evaluation({ ...req, subject: subject("alice") }, dave);
      expect(nosy.status).toBe(403);
      const boxcar = await evaluations(
        {
          resource,
          action: action("CONTACTS_READ"),
          evaluations: [{ subject: subject("dave") }, { subject: subject("alice") }],
        },
        dave,
      );
      expect(boxcar.status).toBe(403);
    });

    it("400 for the bootstrap token on a bare path (it has no tenant), 404 for an unknown tenant", async () => {
      const bare = await evaluation(req, bootstrap);
      expect(bare.status).toBe(400);
      expect(bare.body).toContain("/tenants/{tenant}/access/v1/");
      const unknown = await post("/tenants/nowhere/access/v1/evaluation", req, bootstrap);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toContain("unknown tenant 'nowhere'");
    });

    it("413 for a body over the limit", async () => {
      const huge = { ...req, context: { pad: "x".repeat(2 * 1024 * 1024) } };
      const res = await evaluation(huge);
      expect(res.status).toBe(413);
    });

    it("counts AuthZEN calls in the Prometheus metrics", async () => {
      const text = await (await fetch(`${sidecar.httpUrl}/metrics`)).text();
      expect(text).toMatch(
        /rolecall_rpc_duration_seconds_count\{method="AuthZEN\/evaluation",listener="http"\} [1-9]/,
      );
      expect(text).toMatch(/rolecall_rpc_errors_total\{method="AuthZEN\/evaluation",code="\d+"\} [1-9]/);
    });
  });
});
