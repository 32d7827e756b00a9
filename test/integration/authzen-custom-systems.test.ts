/**
 * AuthZEN over a tenant's own system (issue 16): a real sidecar, the example app
 * (examples/systems/agent-desktop.json) put with PutSystem over Connect JSON on the HTTP listener,
 * roles given with admin calls, then evaluations, boxcars, action search and the per-tenant
 * metadata as a PEP sees them, with a service token made by `rolecall token create --service`.
 * A second tenant does not see the first one's system.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
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
import { ROOT } from "../support/cli.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const example = readFileSync(join(ROOT, "examples/systems/agent-desktop.json"), "utf8");

/** A call recording of `owner`'s, with others who took part in it. */
const call = (owner: string, participants: string[] = []) => ({
  type: "call",
  id: "call-7",
  properties: { ownerID: owner, ...(participants.length > 0 ? { participants } : {}) },
});
const outOfScope = { decision: false, context: { reason: "OUT_OF_SCOPE" } };

describe("AuthZEN over a tenant's own system", () => {
  let sidecar: SidecarProcess;
  let gateway: string; // demo's service token, made after the system was put
  const post = authzenCaller(() => sidecar.httpUrl);
  const evaluation = (body: unknown, token = gateway) => post("/access/v1/evaluation", body, token);
  const evaluations = (body: unknown, token = gateway) => post("/access/v1/evaluations", body, token);

  /** An admin operation over Connect JSON with the bootstrap token, as curl makes it. */
  async function admin(method: string, body: string | Json): Promise<Json> {
    const res = await post(`/rolecall.v1.AdminService/${method}`, body, sidecar.adminToken);
    expect(res.status, `${method}: ${JSON.stringify(res.body)}`).toBe(200);
    const answer = res.body as Json;
    return answer;
  }

  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    const put = await admin("PutSystem", `{"tenantId": "demo", "system": ${example}}`);
    expect(put.createdRoleIds).toEqual(["agent-desktop.agent", "agent-desktop.team-lead"]);
    // dave: the example's agent role (own recordings and notes); alice: its team lead (anyone's).
    await admin("AssignRoles", { tenantId: "demo", userId: "dave", roleIds: ["agent-desktop.agent"] });
    await admin("AssignRoles", { tenantId: "demo", userId: "alice", roleIds: ["agent-desktop.team-lead"] });
    // carol: a role of the tenant's making that grants only the all-scoped recordings permission.
    const role = await admin("CreateRole", { tenantId: "demo", name: "Recording Reviewer" });
    const granted = await admin("GrantPermissions", {
      tenantId: "demo",
      roleId: role.roleId as string,
      permissions: ["agent-desktop/recordings.play-any"],
    });
    expect(granted.autoGranted).toEqual(
      expect.arrayContaining(["agent-desktop/recordings.play", "agent-desktop/desktop.use"]),
    );
    await admin("AssignRoles", { tenantId: "demo", userId: "carol", roleIds: [role.roleId as string] });
    gateway = await createToken(sidecar.dbPath, "--tenant", "demo", "--service", "desktop-gateway");
    await untilAccepted(post, gateway);
    // Decisions follow the last admin write once the sidecar has applied it.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const probe = await evaluation({
        subject: subject("carol"),
        action: action("agent-desktop/recordings.play"),
        resource: call("bob"),
      });
      if ((probe.body as Json).decision === true) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  it("decides the custom system's actions by bare and qualified name, with a service token", async () => {
    for (const name of ["desktop.use", "agent-desktop/desktop.use"]) {
      const res = await evaluation({
        subject: subject("dave"),
        action: action(name),
        resource: call("dave"),
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ decision: true });
    }
    // The agent role lacks the dialer override; the team lead has it.
    expect(
      (
        await evaluation({
          subject: subject("dave"),
          action: action("dialer.override"),
          resource: call("dave"),
        })
      ).body,
    ).toEqual({ decision: false, context: { reason: "NOT_GRANTED" } });
    expect(
      (
        await evaluation({
          subject: subject("alice"),
          action: action("agent-desktop/dialer.override"),
          resource: call("dave"),
        })
      ).body,
    ).toEqual({ decision: true });
  });

  it("scopes a self action to the resource's owner or participants, unless the all-scoped permission implies it", async () => {
    const play = (user: string, resource: Json) =>
      evaluation({ subject: subject(user), action: action("recordings.play"), resource });
    expect((await play("dave", call("dave"))).body).toEqual({ decision: true });
    expect((await play("dave", call("bob", ["dave"]))).body).toEqual({ decision: true });
    expect((await play("dave", call("bob"))).body).toEqual(outOfScope);
    const snake = await evaluation({
      subject: subject("dave"),
      action: action("notes.edit"),
      resource: { type: "call", id: "call-8", properties: { owner_id: "bob" } },
    });
    expect(snake.body).toEqual(outOfScope);
    // recordings.play-any (a tenant's role for carol, the team lead's for alice) implies it.
    expect((await play("carol", call("bob"))).body).toEqual({ decision: true });
    expect((await play("alice", call("bob"))).body).toEqual({ decision: true });
    // carol's role grants nothing about notes: not granted at all, not a matter of scope.
    const notes = await evaluation({
      subject: subject("carol"),
      action: action("agent-desktop/notes.edit"),
      resource: call("carol"),
    });
    expect(notes.body).toEqual({ decision: false, context: { reason: "NOT_GRANTED" } });
  });

  describe("boxcar evaluations mixing the custom system and a vendor's", () => {
    // dave: CONTACTS_READ yes, the others' recording no (out of scope), CONTACTS_UPDATE no.
    const batch = (semantic: string) => ({
      subject: subject("dave"),
      options: { evaluations_semantic: semantic },
      evaluations: [
        { action: action("cxengage/CONTACTS_READ"), resource },
        { action: action("agent-desktop/recordings.play"), resource: call("bob") },
        { action: action("desktop.use"), resource: call("dave") },
        { action: action("CONTACTS_UPDATE"), resource },
      ],
    });
    const notGranted = { decision: false, context: { reason: "NOT_GRANTED" } };

    it("execute_all answers every item in request order", async () => {
      const res = await evaluations(batch("execute_all"));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        evaluations: [{ decision: true }, outOfScope, { decision: true }, notGranted],
      });
    });

    it("deny_on_first_deny stops at the custom system's out-of-scope denial", async () => {
      expect((await evaluations(batch("deny_on_first_deny"))).body).toEqual({
        evaluations: [{ decision: true }, outOfScope],
      });
    });

    it("permit_on_first_permit stops at the first permit, a custom action's when it comes first", async () => {
      expect((await evaluations(batch("permit_on_first_permit"))).body).toEqual({
        evaluations: [{ decision: true }],
      });
      const customFirst = batch("permit_on_first_permit");
      customFirst.evaluations = customFirst.evaluations.slice(1);
      expect((await evaluations(customFirst)).body).toEqual({
        evaluations: [outOfScope, { decision: true }],
      });
    });
  });

  it("lists the custom system's actions a user may take on a resource, next to the vendors'", async () => {
    const names = async (user: string, on: Json) => {
      const res = await post("/access/v1/search/action", { subject: subject(user), resource: on }, gateway);
      expect(res.status).toBe(200);
      return (res.body as { results: { name: string }[] }).results.map((r) => r.name);
    };
    const own = await names("dave", call("dave"));
    expect(own.filter((n) => n.startsWith("agent-desktop/"))).toEqual([
      "agent-desktop/desktop.use",
      "agent-desktop/notes.edit",
      "agent-desktop/recordings.play",
    ]);
    expect(own).toContain("cxengage/CONTACTS_READ");
    const others = await names("dave", call("bob"));
    expect(others.filter((n) => n.startsWith("agent-desktop/"))).toEqual(["agent-desktop/desktop.use"]);
    const lead = await names("alice", call("bob"));
    expect(lead.filter((n) => n.startsWith("agent-desktop/"))).toEqual([
      "agent-desktop/desktop.use",
      "agent-desktop/dialer.override",
      "agent-desktop/notes.edit",
      "agent-desktop/notes.edit-any",
      "agent-desktop/recordings.play",
      "agent-desktop/recordings.play-any",
    ]);
  });

  it("publishes the tenant's metadata, whose endpoints decide on its own system", async () => {
    const base = sidecar.httpUrl;
    const res = await fetch(`${base}/.well-known/authzen-configuration/tenants/demo`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Json;
    expect(doc).toEqual({
      policy_decision_point: `${base}/tenants/demo`,
      access_evaluation_endpoint: `${base}/tenants/demo/access/v1/evaluation`,
      access_evaluations_endpoint: `${base}/tenants/demo/access/v1/evaluations`,
      search_subject_endpoint: `${base}/tenants/demo/access/v1/search/subject`,
      search_action_endpoint: `${base}/tenants/demo/access/v1/search/action`,
      search_resource_endpoint: `${base}/tenants/demo/access/v1/search/resource`,
    });
    const subjects = await post(
      new URL(doc.search_subject_endpoint as string).pathname,
      { subject: { type: "user" }, action: action("agent-desktop/dialer.override"), resource: call("bob") },
      gateway,
    );
    expect((subjects.body as { results: { id: string }[] }).results.map((r) => r.id)).toEqual(["alice"]);
  });

  it("keeps each tenant's systems to itself: an unknown action is a 400 suggesting a key of the asker's own", async () => {
    await admin("CreateTenant", { tenantId: "acme", name: "Acme", systems: ["cxengage"] });
    await admin("CreateUser", { tenantId: "acme", userId: "dave", displayName: "Dave of Acme" });
    // acme's own system has a key close to the example's.
    const wallboard = {
      id: "wallboard",
      name: "Wallboard",
      permissions: [{ key: "recordings.replay", name: "Replay" }],
    };
    await admin("PutSystem", { tenantId: "acme", system: wallboard });
    const acme = await createToken(sidecar.dbPath, "--tenant", "acme", "--service", "acme-gateway");
    const ask = (name: string, token: string) =>
      post(
        "/access/v1/evaluation",
        { subject: subject("dave"), action: action(name), resource: call("dave") },
        token,
      );
    await untilAccepted(post, acme);
    const bare = await ask("recordings.play", acme);
    expect(bare.status).toBe(400);
    expect(bare.body).toBe(
      "action 'recordings.play' is not a permission of tenant 'acme'; did you mean 'wallboard/recordings.replay'?\n",
    );
    const qualified = await ask("agent-desktop/recordings.play", acme);
    expect(qualified.status).toBe(400);
    expect(qualified.body).toMatch(
      /^action 'agent-desktop\/recordings\.play' is not a permission of tenant 'acme'/,
    );
    expect(qualified.body).not.toMatch(/did you mean 'agent-desktop/);
    // And the other way round: demo does not see acme's system.
    const mirrored = await ask("recordings.replay", gateway);
    expect(mirrored.status).toBe(400);
    expect(mirrored.body).toBe(
      "action 'recordings.replay' is not a permission of tenant 'demo'; did you mean 'agent-desktop/recordings.play'?\n",
    );
    // acme's action search lists its own system, never demo's.
    const search = await post("/access/v1/search/action", { subject: subject("dave"), resource }, acme);
    expect(search.status).toBe(200);
    expect(JSON.stringify(search.body)).not.toContain("agent-desktop");
    const meta = await fetch(`${sidecar.httpUrl}/.well-known/authzen-configuration/tenants/acme`);
    expect(((await meta.json()) as Json).policy_decision_point).toBe(`${sidecar.httpUrl}/tenants/acme`);
  });
});
