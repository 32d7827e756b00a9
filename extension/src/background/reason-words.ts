/**
 * One word per reason, everywhere the extension shows one (overlay badges, "Not on this page",
 * popup rows, comparisons): the enum name read as words, `LICENSE_MISSING` → "license missing".
 */
import { Reason } from "../../../gen/rolecall/v1/policy_pb.js";

/** A reason's enum name (`LICENSE_MISSING`) as words; empty for none. */
export function reasonWord(name: string): string {
  return name === "" || name === "UNSPECIFIED" ? "" : name.toLowerCase().replace(/_/g, " ");
}

/** A wire reason as words. */
export function reasonText(reason: Reason): string {
  return reasonWord(Reason[reason] ?? `REASON_${reason}`);
}
