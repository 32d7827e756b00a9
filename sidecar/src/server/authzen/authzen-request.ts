/**
 * The AuthZEN 1.0 request shapes (subject, action, resource, context; evaluations with top-level
 * defaults and options; search pages), checked field by field. Every refusal names the JSON path
 * at fault and what it should hold, so a PEP's developer fixes it from the message alone.
 */
import { AuthzenError } from "./authzen-error.js";

type Json = Record<string, unknown>;

/** A subject: rolecall decides for type `user`, the id being the tenant's user id. */
export interface Subject {
  readonly type: string;
  readonly id: string;
}

/** An action: its name is a permission key, qualified or bare. */
export interface Action {
  readonly name: string;
}

/** A resource: type and id are the PEP's; properties may name its owner and participants. */
export interface Resource {
  readonly type: string;
  readonly id: string;
  readonly ownerId: string | undefined;
  readonly participants: readonly string[];
}

/** One evaluation, after defaults are applied. */
export interface Evaluation {
  readonly subject: Subject;
  readonly action: Action;
  readonly resource: Resource;
}

/** The evaluations semantics of the spec; `execute_all` when none is given. */
export type Semantic = "execute_all" | "deny_on_first_deny" | "permit_on_first_permit";

const SEMANTICS: readonly Semantic[] = ["execute_all", "deny_on_first_deny", "permit_on_first_permit"];

function bad(message: string): never {
  throw new AuthzenError(400, message);
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses a request body: a JSON object, or a 400 saying what the bytes were. */
export function parseBody(body: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    bad(`the request body is not JSON (${(err as Error).message}); send an AuthZEN request object`);
  }
  if (!isObject(value)) bad("the request body must be a JSON object");
  return value;
}

function optionalObject(v: unknown, path: string): Json | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) bad(`${path} must be a JSON object`);
  return v;
}

function requiredObject(v: unknown, path: string): Json {
  if (v === undefined) bad(`${path} is required`);
  return optionalObject(v, path)!;
}

function requiredString(v: unknown, path: string): string {
  if (typeof v !== "string" || v === "") bad(`${path} must be a non-empty string`);
  return v;
}

/** `properties`, when present, is an object (the spec's only constraint on it). */
function checkProperties(o: Json, path: string): Json | undefined {
  return optionalObject(o.properties, `${path}.properties`);
}

function parseSubject(v: unknown, path: string, idRequired: boolean): Subject {
  const o = requiredObject(v, path);
  checkProperties(o, path);
  const type = requiredString(o.type, `${path}.type`);
  if (type !== "user")
    bad(`${path}.type '${type}' is not supported: rolecall decides for subjects of type 'user'`);
  return { type, id: idRequired ? requiredString(o.id, `${path}.id`) : "" };
}

function parseAction(v: unknown, path: string): Action {
  const o = requiredObject(v, path);
  checkProperties(o, path);
  return { name: requiredString(o.name, `${path}.name`) };
}

function ownerOf(props: Json | undefined, path: string): string | undefined {
  const a = props?.ownerID;
  const b = props?.owner_id;
  if (a !== undefined && typeof a !== "string")
    bad(`${path}.properties.ownerID must be a string (a user id)`);
  if (b !== undefined && typeof b !== "string")
    bad(`${path}.properties.owner_id must be a string (a user id)`);
  if (a !== undefined && b !== undefined && a !== b) {
    bad(`${path}.properties has ownerID '${a}' and owner_id '${b}'; send one of them`);
  }
  return a ?? b;
}

function participantsOf(props: Json | undefined, path: string): readonly string[] {
  const v = props?.participants;
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((p) => typeof p !== "string")) {
    bad(`${path}.properties.participants must be an array of user ids (strings)`);
  }
  return v as string[];
}

function parseResource(v: unknown, path: string, idRequired: boolean): Resource {
  const o = requiredObject(v, path);
  const props = checkProperties(o, path);
  return {
    type: requiredString(o.type, `${path}.type`),
    id: idRequired ? requiredString(o.id, `${path}.id`) : "",
    ownerId: ownerOf(props, path),
    participants: participantsOf(props, path),
  };
}

/** One evaluation's 4-tuple (context accepted, checked to be an object, and not used). */
function parseTuple(o: Json, path: string): Evaluation {
  optionalObject(o.context, `${path}.context`);
  return {
    subject: parseSubject(o.subject, `${path}.subject`, true),
    action: parseAction(o.action, `${path}.action`),
    resource: parseResource(o.resource, `${path}.resource`, true),
  };
}

/** The Access Evaluation request. */
export function parseEvaluation(body: Json): Evaluation {
  return parseTuple(body, "request");
}

/** The Access Evaluations request: each item with the top-level values as defaults. */
export interface EvaluationsRequest {
  /** Absent `evaluations`: the request is one evaluation, answered as the single endpoint does. */
  readonly single: boolean;
  /** Each item, or the error that item alone has (answered in its place, per the spec). */
  readonly items: readonly (Evaluation | AuthzenError)[];
  readonly semantic: Semantic;
}

/** Parses the Access Evaluations request, refusing more than `maxItems` evaluations. */
export function parseEvaluations(body: Json, maxItems: number): EvaluationsRequest {
  const options = optionalObject(body.options, "options");
  const semantic = options?.evaluations_semantic ?? "execute_all";
  if (!SEMANTICS.includes(semantic as Semantic)) {
    bad(`options.evaluations_semantic must be one of ${SEMANTICS.join(", ")}`);
  }
  const list = body.evaluations;
  if (list === undefined)
    return { single: true, items: [parseTuple(body, "request")], semantic: "execute_all" };
  if (!Array.isArray(list)) bad("evaluations must be an array of evaluation objects");
  if (list.length > maxItems) {
    bad(`evaluations has ${list.length} entries; at most ${maxItems} per request — split the batch`);
  }
  for (const key of ["subject", "action", "resource", "context"]) optionalObject(body[key], key);
  const items = list.map((item, i) => {
    const path = `evaluations[${i}]`;
    if (!isObject(item)) bad(`${path} must be a JSON object`);
    // A key given in the item wins over the top-level default, as a whole object.
    const merged: Json = {};
    for (const key of ["subject", "action", "resource", "context"]) merged[key] = item[key] ?? body[key];
    try {
      return parseTuple(merged, path);
    } catch (err) {
      if (err instanceof AuthzenError) return err;
      throw err;
    }
  });
  return { single: false, items, semantic: semantic as Semantic };
}

/** A search page request: where to continue and how many at most. */
export interface PageRequest {
  readonly token: string;
  readonly limit: number;
}

/** Results per search page when the caller does not say. */
export const DEFAULT_PAGE_LIMIT = 100;

/** `page.next_token` and `page.limit`, checked; `limit` at most `maxLimit`. */
export function parsePage(body: Json, maxLimit: number): PageRequest {
  const page = optionalObject(body.page, "page");
  const token = page?.next_token ?? "";
  if (typeof token !== "string") bad("page.next_token must be a string (as the previous page gave it)");
  const limit = page?.limit ?? DEFAULT_PAGE_LIMIT;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    bad(`page.limit must be an integer from 1 to ${maxLimit}`);
  }
  return { token, limit };
}

/** The Subject Search request: the subject's id is ignored. */
export function parseSubjectSearch(body: Json): { readonly action: Action; readonly resource: Resource } {
  optionalObject(body.context, "context");
  parseSubject(body.subject, "subject", false);
  return {
    action: parseAction(body.action, "action"),
    resource: parseResource(body.resource, "resource", true),
  };
}

/** The Action Search request. */
export function parseActionSearch(body: Json): { readonly subject: Subject; readonly resource: Resource } {
  optionalObject(body.context, "context");
  return {
    subject: parseSubject(body.subject, "subject", true),
    resource: parseResource(body.resource, "resource", true),
  };
}

/** The Resource Search request: the resource's id is ignored. */
export function parseResourceSearch(body: Json): { readonly subject: Subject; readonly action: Action } {
  optionalObject(body.context, "context");
  parseResource(body.resource, "resource", false);
  return { subject: parseSubject(body.subject, "subject", true), action: parseAction(body.action, "action") };
}
