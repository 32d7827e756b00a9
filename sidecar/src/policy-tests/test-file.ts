/**
 * A policy test file (`rolecall test FILE.yaml`): expectations on decisions, optionally with a
 * fixture tenant to build first. Read strictly — an unknown key, a misspelt reason or a missing
 * field is an error naming the file, the line, the field and the fix, never a silently skipped
 * expectation that would let a broken policy pass.
 */

import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { closestKey } from "../../../catalog/closest-key.js";
import type { Reason } from "../policy/decision.js";

/** What a test expects: allowed, a reason of denial, or any denial. */
export type Expectation = Reason | "DENIED";

/** The reasons a file may name (the proto's, without their `REASON_` prefix), and `DENIED`. */
export const EXPECTATIONS: readonly Expectation[] = [
  "GRANTED",
  "NOT_GRANTED",
  "LICENSE_MISSING",
  "REQUIREMENT_MISSING",
  "USER_INACTIVE",
  "USER_UNKNOWN",
  "TARGET_LACKS_PERMISSION",
  "OUT_OF_SCOPE",
  "DENIED",
];

/** One expectation. */
export interface PolicyTestCase {
  /** Its `name`, or one made of user and permission. */
  readonly name: string;
  /** 1-based line of the test in the file. */
  readonly line: number;
  readonly tenant: string;
  readonly user: string;
  readonly permission: string;
  readonly target?: string;
  readonly resource?: { readonly ownerUserId: string; readonly participantUserIds: readonly string[] };
  readonly expect: Expectation;
}

/** A role of the fixture tenant. */
export interface FixtureRole {
  readonly name: string;
  readonly line: number;
  readonly basedOn?: string;
  readonly licenses?: readonly string[];
  readonly grant: readonly string[];
  readonly revoke: readonly string[];
}

/** A user of the fixture tenant. */
export interface FixtureUser {
  readonly id: string;
  readonly line: number;
  readonly name: string;
  /** Role names (of the fixture) or ids (default roles such as `cxengage.agent`). */
  readonly roles: readonly string[];
  readonly active: boolean;
}

/** A throwaway tenant to run the tests on, built through the admin operations. */
export interface Fixture {
  readonly line: number;
  readonly tenant: string;
  /** Systems to enable; default every system of the catalog. */
  readonly systems?: readonly string[];
  /** Seats of every license the tenant's systems offer. */
  readonly seats: number;
  readonly owners: readonly string[];
  readonly roles: readonly FixtureRole[];
  readonly users: readonly FixtureUser[];
}

/** A parsed test file. */
export interface PolicyTestFile {
  readonly path: string;
  readonly fixture?: Fixture;
  readonly tests: readonly PolicyTestCase[];
}

/** A malformed file: where, and what to do about it. */
export class PolicyTestFileError extends Error {
  override readonly name = "PolicyTestFileError";
  constructor(
    readonly path: string,
    readonly line: number,
    message: string,
  ) {
    super(`${path}:${line}: ${message}`);
  }
}

/** Seats of every license in a fixture tenant unless `seats` says otherwise. */
const DEFAULT_SEATS = 25;

/**
 * `allowed`, `denied`, a proto reason (`REASON_NOT_GRANTED`) or its short form in any case
 * (`not_granted`, `not-granted`); undefined for anything else.
 */
export function parseExpectation(text: string): Expectation | undefined {
  const word = text
    .trim()
    .toUpperCase()
    .replace(/[-\s]+/g, "_")
    .replace(/^REASON_/, "");
  if (word === "ALLOWED" || word === "ALLOW") return "GRANTED";
  return EXPECTATIONS.find((e) => e === word);
}

/** Reads a test file's text. Throws `PolicyTestFileError` for anything malformed. */
export function parsePolicyTestFile(path: string, text: string): PolicyTestFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: Node | null | undefined): number =>
    node?.range ? lines.linePos(node.range[0]).line : 1;
  const fail = (node: Node | null | undefined, message: string): never => {
    throw new PolicyTestFileError(path, lineOf(node), message);
  };
  const firstError = doc.errors[0];
  if (firstError) {
    const line = firstError.linePos?.[0]?.line ?? 1;
    throw new PolicyTestFileError(path, line, `not valid YAML: ${firstError.message.split("\n")[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) {
    return fail(root, "expected a mapping with 'tests:' (a list of expectations) and optionally 'fixture:'");
  }

  /** The map's keys, refusing any not in `allowed` with the closest allowed one. */
  const fields = (map: YAMLMap, where: string, allowed: readonly string[]): Map<string, Node | null> => {
    const out = new Map<string, Node | null>();
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!allowed.includes(key)) {
        const hint = closestKey(key, allowed);
        fail(
          pair.key as Node,
          `unknown field '${key}' in ${where}${hint ? `; did you mean '${hint}'?` : ""} (fields: ${allowed.join(", ")})`,
        );
      }
      out.set(key, pair.value as Node | null);
    }
    return out;
  };
  const str = (node: Node | null | undefined, field: string, where: Node | null): string => {
    if (node === undefined || node === null) return fail(where, `'${field}' is required`);
    if (!isScalar(node) || (typeof node.value !== "string" && typeof node.value !== "number")) {
      return fail(node, `'${field}' must be a string`);
    }
    const value = String(node.value).trim();
    if (value === "") return fail(node, `'${field}' must not be empty`);
    return value;
  };
  const optStr = (node: Node | null | undefined, field: string): string | undefined =>
    node === undefined || node === null ? undefined : str(node, field, node);
  const list = (node: Node | null | undefined, field: string): string[] => {
    if (node === undefined || node === null) return [];
    if (!isSeq(node)) return fail(node, `'${field}' must be a list, e.g. ${field}: [a, b]`);
    return node.items.map((item, i) => str(item as Node, `${field}[${i}]`, node));
  };
  const mapAt = (node: Node | null | undefined, what: string): YAMLMap => {
    if (!isMap(node)) return fail(node, `${what} must be a mapping of fields`);
    return node;
  };

  const top = fields(root, "the file", ["fixture", "tests"]);
  const fixtureNode = top.get("fixture");
  const fixture =
    fixtureNode === undefined || fixtureNode === null
      ? undefined
      : readFixture(mapAt(fixtureNode, "'fixture'"));

  function readFixture(map: YAMLMap): Fixture {
    const f = fields(map, "'fixture'", ["tenant", "systems", "seats", "owners", "roles", "users"]);
    const seatsNode = f.get("seats");
    let seats = DEFAULT_SEATS;
    if (seatsNode !== undefined && seatsNode !== null) {
      if (!isScalar(seatsNode) || !Number.isInteger(seatsNode.value) || (seatsNode.value as number) < 0) {
        fail(
          seatsNode,
          "'seats' must be a whole number of seats (every license of the tenant gets that many)",
        );
      }
      seats = (seatsNode as { value: number }).value;
    }
    const seqAt = (key: string): readonly Node[] => {
      const node = f.get(key);
      if (node === undefined || node === null) return [];
      if (!isSeq(node)) return fail(node, `'fixture.${key}' must be a list`);
      return node.items as Node[];
    };
    const roles = seqAt("roles").map((node, i): FixtureRole => {
      const r = fields(mapAt(node, `fixture.roles[${i}]`), `fixture.roles[${i}]`, [
        "name",
        "based_on",
        "licenses",
        "grant",
        "revoke",
      ]);
      const basedOn = optStr(r.get("based_on"), "based_on");
      const licensesNode = r.get("licenses");
      return {
        name: str(r.get("name"), "name", node),
        line: lineOf(node),
        ...(basedOn === undefined ? {} : { basedOn }),
        ...(licensesNode === undefined ? {} : { licenses: list(licensesNode, "licenses") }),
        grant: list(r.get("grant"), "grant"),
        revoke: list(r.get("revoke"), "revoke"),
      };
    });
    const users = seqAt("users").map((node, i): FixtureUser => {
      const u = fields(mapAt(node, `fixture.users[${i}]`), `fixture.users[${i}]`, [
        "id",
        "name",
        "roles",
        "active",
      ]);
      const id = str(u.get("id"), "id", node);
      const activeNode = u.get("active");
      if (activeNode !== undefined && !(isScalar(activeNode) && typeof activeNode.value === "boolean")) {
        fail(activeNode, "'active' must be true or false");
      }
      return {
        id,
        line: lineOf(node),
        name: optStr(u.get("name"), "name") ?? id,
        roles: list(u.get("roles"), "roles"),
        active: activeNode === undefined ? true : (activeNode as { value: boolean }).value,
      };
    });
    const systemsNode = f.get("systems");
    return {
      line: lineOf(map),
      tenant: str(f.get("tenant"), "tenant", map),
      ...(systemsNode === undefined ? {} : { systems: list(systemsNode, "systems") }),
      seats,
      owners: list(f.get("owners"), "owners"),
      roles,
      users,
    };
  }

  const testsNode = top.get("tests");
  if (!isSeq(testsNode) || testsNode.items.length === 0) {
    return fail(
      testsNode ?? root,
      "'tests' must be a non-empty list of expectations, e.g. - {user: dave, permission: cxengage/CONTACTS_UPDATE, expect: not_granted}",
    );
  }
  const tests = testsNode.items.map((node, i): PolicyTestCase => {
    const where = `tests[${i}]`;
    const t = fields(mapAt(node as Node, where), where, [
      "name",
      "tenant",
      "user",
      "permission",
      "target",
      "resource",
      "expect",
    ]);
    const tenant = optStr(t.get("tenant"), "tenant") ?? fixture?.tenant;
    if (tenant === undefined)
      fail(node as Node, `'tenant' is required in ${where} (the file has no fixture to default to)`);
    const user = str(t.get("user"), "user", node as Node);
    const permission = str(t.get("permission"), "permission", node as Node);
    const expectNode = t.get("expect");
    const expectText = str(expectNode, "expect", node as Node);
    const expectation = parseExpectation(expectText);
    if (expectation === undefined) {
      const hint = closestKey(expectText.toUpperCase(), ["ALLOWED", ...EXPECTATIONS]);
      fail(
        expectNode,
        `'expect: ${expectText}' is not a decision${hint ? `; did you mean '${hint.toLowerCase()}'?` : ""} (allowed, denied, or a reason: ${EXPECTATIONS.filter(
          (e) => e !== "DENIED" && e !== "GRANTED",
        )
          .map((e) => e.toLowerCase())
          .join(", ")}; REASON_… names work too)`,
      );
    }
    const target = optStr(t.get("target"), "target");
    const resourceNode = t.get("resource");
    let resource: PolicyTestCase["resource"];
    if (resourceNode !== undefined && resourceNode !== null) {
      const r = fields(mapAt(resourceNode, `${where}.resource`), `${where}.resource`, [
        "owner",
        "participants",
      ]);
      resource = {
        ownerUserId: str(r.get("owner"), "resource.owner", resourceNode),
        participantUserIds: list(r.get("participants"), "participants"),
      };
    }
    return {
      name: optStr(t.get("name"), "name") ?? `${user} ${permission}`,
      line: lineOf(node as Node),
      tenant: tenant as string,
      user,
      permission,
      ...(target === undefined ? {} : { target }),
      ...(resource === undefined ? {} : { resource }),
      expect: expectation as Expectation,
    };
  });
  return { path, ...(fixture === undefined ? {} : { fixture }), tests };
}
