/**
 * A small hand-written world modelled on the seed systems (CxEngage scopes and panel, Calabrio
 * licenses, any-of requirements, implications and mutual permissions), shared by example tests.
 */
import type { PolicySource } from "../../../sidecar/src/policy/policy-source.js";
import { buildCatalog, role, tenant, user } from "./catalog-builder.js";

/** The catalog: system `cx` (CxEngage-like) and `c1` (Calabrio-like). */
export const worldCatalog = buildCatalog([
  {
    id: "cx",
    permissions: [
      { key: "cx/CONTACTS_READ" },
      { key: "cx/CONTACTS_UPDATE", requires: "cx/CONTACTS_READ" },
      { key: "cx/NOTES_READ_ALL", scope: "all", implies: ["cx/NOTES_READ_SELF"] },
      { key: "cx/NOTES_READ_SELF", scope: "self" },
      { key: "cx/MONITOR", mutual: true },
    ],
    surfaces: [
      {
        id: "cx/contact-management-panel",
        label: "Contact Management panel",
        requires: { all: ["cx/CONTACTS_READ", "cx/CONTACTS_UPDATE"] },
      },
    ],
  },
  {
    id: "c1",
    licenses: ["c1/qm", "c1/analytics"],
    permissions: [
      { key: "c1/view-contacts", name: "View Contacts", licenses: ["c1/qm"] },
      { key: "c1/view-scored", name: "View Scored Contacts", licenses: ["c1/qm", "c1/analytics"] },
      { key: "c1/evaluate", name: "Evaluate", requires: { any: ["c1/view-contacts", "c1/view-scored"] } },
      { key: "c1/create-content", implies: ["c1/view-content"] },
      { key: "c1/view-content" },
      { key: "c1/a", requires: "c1/b" },
      { key: "c1/b", requires: "c1/c" },
      { key: "c1/c", licenses: ["c1/analytics"] },
    ],
  },
]);

/** Tenant `acme` (pool: qm) and tenant `globex` (no licenses), at revision 7 of database `db-1`. */
export const worldSource: PolicySource = {
  databaseId: "db-1",
  revision: 7,
  catalog: worldCatalog,
  tenants: [
    tenant(
      "acme",
      ["cx", "c1"],
      [
        role(
          "agent",
          ["cx/CONTACTS_READ", "cx/CONTACTS_UPDATE", "cx/NOTES_READ_SELF", "cx/MONITOR"],
          [],
          "Agent",
        ),
        role("custom-agent", ["cx/CONTACTS_READ", "cx/NOTES_READ_SELF"], [], "Custom Agent"),
        role(
          "supervisor",
          ["cx/NOTES_READ_ALL", "cx/MONITOR", "c1/view-contacts", "c1/evaluate", "c1/create-content"],
          ["c1/qm"],
          "Supervisor",
        ),
        role("unlicensed", ["c1/view-scored", "c1/evaluate", "c1/a", "c1/b", "c1/c"], [], "Unlicensed"),
      ],
      [
        user("dave", ["custom-agent"], true, "Dave"),
        user("alice", ["agent"]),
        user("sam", ["supervisor"]),
        user("ivy", ["agent"], false),
        user("nora", ["unlicensed", "missing-role"]),
      ],
      ["c1/qm"],
    ),
    tenant("globex", ["c1"], [role("unlicensed", ["c1/view-scored"])], [user("dave", ["unlicensed"])]),
  ],
};
