/**
 * The PDP metadata document (`GET /.well-known/authzen-configuration`), public: a PEP discovers
 * the endpoints before it holds a token. Per tenant, the PDP identifier is `<base>/tenants/<id>`
 * and, as RFC 8615 places well-known paths, its document is served at
 * `/.well-known/authzen-configuration/tenants/<id>`. The document is the same for every tenant
 * id, existing or not, so it cannot be used to list tenants.
 */

/** The endpoint keys of the metadata document, and the paths they name under the PDP identifier. */
export const AUTHZEN_ENDPOINTS = {
  access_evaluation_endpoint: "/access/v1/evaluation",
  access_evaluations_endpoint: "/access/v1/evaluations",
  search_subject_endpoint: "/access/v1/search/subject",
  search_action_endpoint: "/access/v1/search/action",
  search_resource_endpoint: "/access/v1/search/resource",
} as const;

/** The metadata document of the PDP identified by `pdp` (a URL without query or fragment). */
export function metadataDocument(pdp: string): Record<string, string> {
  const doc: Record<string, string> = { policy_decision_point: pdp };
  for (const [key, path] of Object.entries(AUTHZEN_ENDPOINTS)) doc[key] = pdp + path;
  return doc;
}
