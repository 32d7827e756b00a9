/** Conversions from the engine's domain types to rolecall.v1 wire messages (init shapes). */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ExplainPermissionResponseSchema,
  type TraceStepSchema,
  Reason as WireReason,
} from "../../../gen/rolecall/v1/policy_pb.js";
import type { Decision, Reason } from "../policy/decision.js";
import type { Explanation, RequirementStep } from "../policy/explain.js";

type TraceStepInit = MessageInitShape<typeof TraceStepSchema>;

/** The wire enum value of a domain reason (the names match once the `REASON_` prefix is dropped). */
export function toWireReason(reason: Reason): WireReason {
  return WireReason[reason];
}

/** The decision fields every check-like response carries. */
interface DecisionFields {
  allowed: boolean;
  reason: WireReason;
  missing: string[];
  revision: bigint;
}

/** The wire form of a decision. */
export function toCheckResponse(d: Decision): DecisionFields {
  return {
    allowed: d.allowed,
    reason: WireReason[d.reason],
    missing: [...d.missing],
    revision: BigInt(d.revision),
  };
}

function requirementStep(step: RequirementStep): TraceStepInit {
  if (step.kind === "permission") {
    return {
      kind: "requirement",
      label: step.permission,
      ok: step.holds,
      detail: step.holds ? "held" : "missing",
    };
  }
  return {
    kind: "requirement",
    label: step.kind === "all" ? "all of" : "any of",
    ok: step.holds,
    detail: step.holds ? "holds" : "does not hold",
    children: step.items.map(requirementStep),
  };
}

/** The wire form of an explanation: the decision, the one-line summary and the steps. */
export function toExplainResponse(e: Explanation): MessageInitShape<typeof ExplainPermissionResponseSchema> {
  const t = e.trace;
  const steps: TraceStepInit[] = [
    {
      kind: "user",
      label: `user ${t.tenant}/${t.user.id}${t.user.displayName ? ` (${t.user.displayName})` : ""}`,
      ok: t.user.found && t.user.active,
      detail: !t.user.found ? "no such user in the tenant" : t.user.active ? "active" : "inactive",
    },
  ];
  for (const role of t.roles) {
    steps.push({
      kind: "role",
      label: `role ${role.name} (${role.roleId})`,
      ok: role.grants,
      detail: role.grants
        ? role.direct
          ? `grants ${t.subject.label}`
          : `grants ${t.subject.label} through an implication`
        : `does not grant ${t.subject.label}`,
    });
  }
  if (t.licenses && t.licenses.tenantMustHave.length > 0) {
    steps.push({
      kind: "license",
      label: `tenant must have ${t.licenses.tenantMustHave.join(" and ")}`,
      ok: t.licenses.tenantLacks.length === 0,
      detail:
        t.licenses.tenantLacks.length === 0
          ? "the tenant has them"
          : `the tenant lacks ${t.licenses.tenantLacks.join(", ")}`,
    });
  }
  if (t.licenses && t.licenses.wanted.length > 0) {
    const ok = t.licenses.wanted.some((l) => t.licenses!.held.includes(l));
    steps.push({
      kind: "license",
      label: `works under ${t.licenses.wanted.join(" or ")}`,
      ok,
      detail: `user holds ${t.licenses.held.join(", ") || "none"}; tenant has ${t.licenses.tenantHas.join(", ") || "none"}`,
    });
  }
  if (t.requirement) steps.push(requirementStep(t.requirement));
  if (t.actorRequirement) {
    steps.push({
      kind: "requirement",
      label: "as the acting user",
      ok: t.actorRequirement.holds,
      detail: "only the acting user needs this, never the target",
      children: [requirementStep(t.actorRequirement)],
    });
  }
  if (t.target) {
    steps.push({
      kind: "target",
      label: `target ${t.target.userId}`,
      ok: t.target.allowed,
      detail: t.target.allowed ? "holds it too" : `does not hold it (${t.target.reason})`,
    });
  }
  if (t.scope) {
    steps.push({
      kind: "scope",
      label: "resource scope",
      ok: t.scope.ownerOrParticipant || t.scope.twinsHeld.length > 0,
      detail: t.scope.ownerOrParticipant
        ? "user owns or took part in the resource"
        : t.scope.twinsHeld.length > 0
          ? `user holds ${t.scope.twinsHeld.join(", ")}`
          : `user neither took part in the resource nor holds ${t.scope.twins.join(" or ") || "a tenant-wide variant"}`,
    });
  }
  if (!e.decision.allowed && (t.wouldFix.roles.length > 0 || t.wouldFix.licenses.length > 0)) {
    steps.push({
      kind: "fix",
      label: "would fix it",
      ok: false,
      detail: [
        t.wouldFix.roles.length > 0 ? `roles: ${t.wouldFix.roles.map((r) => r.name).join(", ")}` : "",
        t.wouldFix.licenses.length > 0 ? `licenses: ${t.wouldFix.licenses.join(", ")}` : "",
      ]
        .filter(Boolean)
        .join("; "),
    });
  }
  return { ...toCheckResponse(e.decision), summary: e.summary, trace: steps };
}
