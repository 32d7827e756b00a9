/**
 * Access Evaluation and Access Evaluations: each 4-tuple becomes one rolecall check (subject id →
 * user, action name → permission key, resource properties → the scope rule's owner and
 * participants) decided on the serving snapshot. A denial is a decision (`decision: false` with
 * rolecall's reason code); the explanation's summary goes only to principals that may read
 * explanations.
 */
import type { CheckRequest, Decision } from "../../policy/decision.js";
import type { Snapshot } from "../../policy/snapshot.js";
import { isMutual, resolveAction } from "./action-resolver.js";
import type { AuthzenCall } from "./authzen-call.js";
import { AuthzenError } from "./authzen-error.js";
import { type Evaluation, parseEvaluation, parseEvaluations, type Semantic } from "./authzen-request.js";

/** One answer of the spec's shape. */
export interface EvaluationAnswer {
  readonly decision: boolean;
  readonly context?: Readonly<Record<string, unknown>>;
}

/** A check ready to run: the subject's user id and rolecall's request. */
interface Check {
  readonly userId: string;
  readonly request: CheckRequest;
}

/** The rolecall check an evaluation stands for; a 400 for an action the tenant does not know. */
function toCheck(snapshot: Snapshot, tenantId: string, e: Evaluation): Check {
  const permission = resolveAction(snapshot, tenantId, e.action.name);
  const { ownerId, participants } = e.resource;
  const scoped = ownerId !== undefined || participants.length > 0;
  // A mutual permission is decided against another user too: a resource of type `user` names them.
  const target =
    e.resource.type === "user" && isMutual(snapshot, tenantId, permission) ? e.resource.id : undefined;
  return {
    userId: e.subject.id,
    request: {
      permission,
      ...(target !== undefined ? { targetUserId: target } : {}),
      ...(scoped ? { resource: { ownerUserId: ownerId ?? "", participantUserIds: participants } } : {}),
    },
  };
}

/** Refuses (403) unless the principal may read every subject's (and target's) decisions. */
function authorizeAll(call: AuthzenCall, checks: readonly (Check | AuthzenError)[]): void {
  const seen = new Set<string>();
  for (const c of checks) {
    if (c instanceof AuthzenError) continue;
    for (const user of [c.userId, c.request.targetUserId]) {
      if (user === undefined || seen.has(user)) continue;
      seen.add(user);
      call.auth.authorizeRead(call.ctx, call.principal, call.tenantId, user);
    }
  }
}

/** The answer for `check`, decided now or (boxcars) already decided as `d`. */
function decide(call: AuthzenCall, check: Check, decided?: Decision): EvaluationAnswer {
  const { tenantId, engine } = call;
  const d = decided ?? engine.check(tenantId, check.userId, check.request);
  call.onDecision?.(tenantId, check.userId, check.request.permission, d);
  if (d.allowed) return { decision: true };
  const context: Record<string, unknown> = { reason: d.reason };
  if (call.auth.mayExplain(call.principal)) {
    context.reason_admin = { en: engine.explain(tenantId, check.userId, check.request).summary };
  }
  return { decision: false, context };
}

function itemError(err: AuthzenError): EvaluationAnswer {
  return { decision: false, context: { error: { status: err.status, message: err.message } } };
}

/** `POST /access/v1/evaluation`. */
export function evaluate(call: AuthzenCall, body: Record<string, unknown>): EvaluationAnswer {
  const evaluation = parseEvaluation(body);
  const check = toCheck(call.engine.currentSnapshot(), call.tenantId, evaluation);
  authorizeAll(call, [check]);
  return decide(call, check);
}

/** Whether an answer ends the batch under `semantic` (an error counts as a denial). */
function stops(semantic: Semantic, answer: EvaluationAnswer): boolean {
  if (semantic === "deny_on_first_deny") return !answer.decision;
  if (semantic === "permit_on_first_permit") return answer.decision;
  return false;
}

/** `POST /access/v1/evaluations`: answers in request order, short-circuited per the semantic. */
export function evaluateMany(
  call: AuthzenCall,
  body: Record<string, unknown>,
  maxItems: number,
): EvaluationAnswer | { readonly evaluations: readonly EvaluationAnswer[] } {
  const req = parseEvaluations(body, maxItems);
  const snapshot = call.engine.currentSnapshot();
  if (req.single) {
    const check = toCheck(snapshot, call.tenantId, req.items[0] as Evaluation);
    authorizeAll(call, [check]);
    return decide(call, check);
  }
  const checks = req.items.map((item) => {
    if (item instanceof AuthzenError) return item;
    try {
      return toCheck(snapshot, call.tenantId, item);
    } catch (err) {
      if (err instanceof AuthzenError) return err;
      throw err;
    }
  });
  // Every subject is authorized before anything is decided: a refused batch reveals nothing.
  authorizeAll(call, checks);
  const decisions = decideRuns(call, checks);
  const evaluations: EvaluationAnswer[] = [];
  for (const [i, c] of checks.entries()) {
    const answer = c instanceof AuthzenError ? itemError(c) : decide(call, c, decisions[i]);
    evaluations.push(answer);
    if (stops(req.semantic, answer)) break;
  }
  return { evaluations };
}

/**
 * Decides each run of consecutive items about the same subject with one checkMany (one
 * effective-set lookup per run, all on one snapshot), the common boxcar of a page's buttons.
 * Items past a short-circuit are decided too but never answered nor counted.
 */
function decideRuns(call: AuthzenCall, checks: readonly (Check | AuthzenError)[]): (Decision | undefined)[] {
  const out: (Decision | undefined)[] = new Array(checks.length);
  let i = 0;
  while (i < checks.length) {
    const first = checks[i]!;
    if (first instanceof AuthzenError) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < checks.length) {
      const next = checks[end]!;
      if (next instanceof AuthzenError || next.userId !== first.userId) break;
      end++;
    }
    const run = checks.slice(i, end) as Check[];
    const decided = call.engine.checkMany(
      call.tenantId,
      first.userId,
      run.map((c) => c.request),
    );
    for (const [k, d] of decided.entries()) out[i + k] = d;
    i = end;
  }
  return out;
}
