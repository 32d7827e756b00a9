/**
 * The demo tenant a new database starts with, telling the story the README walks through:
 * `alice` (agent), `bob` (supervisor), `carol` (administrator), and `dave`, whose custom role
 * lacks `cxengage/CONTACTS_UPDATE`, so the Contact Management panel is missing for him; plus
 * users of the other systems, one of whom (`lena`) holds a role lacking the license a granted
 * permission needs. A key the catalog lacks is skipped and reported, never fatal.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { PolicyAdmin } from "./policy-admin.js";
import type { Principal } from "./principal.js";

/** The demo tenant's id. */
export const DEMO_TENANT_ID = "demo";

/** What `seedDemo` did. */
export interface DemoSeedResult {
  /** `false` when the tenant already existed (nothing was written). */
  readonly created: boolean;
  /** The revision after seeding. */
  readonly revision: number;
  /** Keys, roles or systems the catalog lacks, which the seed skipped. */
  readonly skipped: readonly string[];
}

interface DemoRole {
  readonly name: string;
  readonly basedOn?: string;
  readonly licenses?: readonly string[];
  readonly grants?: readonly string[];
  readonly revoke?: readonly string[];
}

interface DemoUser {
  readonly id: string;
  readonly name: string;
  /** Default-role ids (`calabrio-one.agent`) or names of `DEMO_ROLES`. */
  readonly roles: readonly string[];
}

const DEMO_ROLES: readonly DemoRole[] = [
  {
    // Dave's role: everything a CxEngage agent has but CONTACTS_UPDATE, which hides the panel.
    name: "Custom Agent",
    basedOn: "cxengage.agent",
    revoke: ["cxengage/CONTACTS_UPDATE"],
  },
  {
    name: "Platform Admin",
    grants: [
      "zoom-contact-center/RoleManagement:Edit",
      "zoom-contact-center/UserManagement:Edit",
      "maxcontact/permission-admin-access",
    ],
  },
  { name: "Wallboard Viewer", grants: ["zoom-contact-center/RptWallboard:Read"] },
  {
    name: "MaxContact Agent",
    grants: [
      "maxcontact/access-chat",
      "maxcontact/can-access-canned-responses",
      "maxcontact/agent-access-pre-chat-questions",
    ],
  },
  // Granting the production report also grants access-to-reports, which it requires.
  { name: "Chat Agent", grants: ["iadvize/access-to-production-report"] },
  {
    // Associated with Quality Management only, while view-analytics works under Analytics or
    // Calabrio ONE Access: the grant is there but Lena's check answers LICENSE_MISSING.
    name: "Analytics Viewer",
    licenses: ["calabrio-one/quality-management"],
    grants: ["calabrio-one/view-contacts", "calabrio-one/view-analytics"],
  },
];

const DEMO_USERS: readonly DemoUser[] = [
  { id: "alice", name: "Alice Agent", roles: ["calabrio-one.agent", "cxengage.agent"] },
  { id: "bob", name: "Bob Supervisor", roles: ["calabrio-one.supervisor", "cxengage.supervisor"] },
  {
    id: "carol",
    name: "Carol Administrator",
    roles: ["calabrio-one.administrator", "cxengage.administrator", "iadvize.manager", "Platform Admin"],
  },
  { id: "dave", name: "Dave (custom agent)", roles: ["Custom Agent"] },
  { id: "zoe", name: "Zoe Wallboard", roles: ["Wallboard Viewer"] },
  { id: "max", name: "Max Dialer", roles: ["MaxContact Agent"] },
  { id: "ines", name: "Ines Chat", roles: ["Chat Agent"] },
  { id: "lena", name: "Lena Analyst", roles: ["Analytics Viewer"] },
];

/** The license the demo associates with a role granting Calabrio ONE permissions, when none is named. */
const CALABRIO_ACCESS = "calabrio-one/calabrio-one-access";

/** Seats of every license in the demo tenant: plenty for the story. */
const DEMO_SEATS = 25;

/** Creates the demo tenant in one commit, unless it exists. */
export async function seedDemo(
  admin: PolicyAdmin,
  catalog: Catalog,
  actor: Principal = { kind: "bootstrap" },
): Promise<DemoSeedResult> {
  const existing = (await admin.listTenants(actor)).find((t) => t.id === DEMO_TENANT_ID);
  if (existing !== undefined) return { created: false, revision: 0, skipped: [] };
  const skipped: string[] = [];
  const knownKeys = (keys: readonly string[]): string[] =>
    keys.filter((k) => {
      if (catalog.permissions.has(k)) return true;
      skipped.push(`permission ${k}`);
      return false;
    });
  const knownLicenses = (ids: readonly string[]): string[] =>
    ids.filter((l) => {
      if (catalog.licenses.has(l)) return true;
      skipped.push(`license ${l}`);
      return false;
    });
  return admin.atomically(async (): Promise<DemoSeedResult> => {
    const systems = catalog.systems.map((s) => s.id);
    let { revision, roleIds } = await admin.createTenant(actor, {
      tenantId: DEMO_TENANT_ID,
      name: "Demo Contact Center",
      systems,
      // carol administers the demo tenant as its owner (the "account owner" of Zoom, iAdvize's administrators).
      ownerUserIds: ["carol"],
      licenseSeats: Object.fromEntries([...catalog.licenses.keys()].map((l) => [l, DEMO_SEATS])),
    });
    const roleByName = new Map<string, string>(roleIds.map((id) => [id, id]));
    for (const role of DEMO_ROLES) {
      if (role.basedOn !== undefined && !roleByName.has(role.basedOn)) {
        skipped.push(`role ${role.name} (its base role ${role.basedOn} is not in the catalog)`);
        continue;
      }
      // A Calabrio ONE grant needs a Calabrio ONE license on the role; give the first one unless told.
      const needsCalabrio = (role.grants ?? []).some((k) => k.startsWith("calabrio-one/"));
      const preferred = catalog.licenses.has(CALABRIO_ACCESS)
        ? CALABRIO_ACCESS
        : [...catalog.licenses.values()].find((l) => l.system === "calabrio-one")?.id;
      const licenses = knownLicenses(
        role.licenses ?? (needsCalabrio && preferred !== undefined ? [preferred] : []),
      );
      const created = await admin.createRole(actor, {
        tenantId: DEMO_TENANT_ID,
        name: role.name,
        ...(role.basedOn === undefined ? {} : { basedOnRoleId: role.basedOn }),
        ...(role.licenses === undefined && !needsCalabrio ? {} : { licenseIds: licenses }),
      });
      roleByName.set(role.name, created.roleId);
      revision = created.revision;
      const grants = knownKeys(role.grants ?? []);
      if (grants.length > 0) {
        revision = (
          await admin.grantPermissions(actor, {
            tenantId: DEMO_TENANT_ID,
            roleId: created.roleId,
            permissions: grants,
          })
        ).revision;
      }
      const revoke = knownKeys(role.revoke ?? []);
      if (revoke.length > 0) {
        revision = (
          await admin.revokePermissions(actor, {
            tenantId: DEMO_TENANT_ID,
            roleId: created.roleId,
            permissions: revoke,
            cascade: true,
          })
        ).revision;
      }
    }
    for (const user of DEMO_USERS) {
      revision = (
        await admin.createUser(actor, {
          tenantId: DEMO_TENANT_ID,
          userId: user.id,
          displayName: user.name,
        })
      ).revision;
      const roles = user.roles.flatMap((r) => {
        const id = roleByName.get(r);
        if (id === undefined) skipped.push(`role ${r} for ${user.id}`);
        return id === undefined ? [] : [id];
      });
      if (roles.length > 0) {
        revision = (
          await admin.assignRoles(actor, {
            tenantId: DEMO_TENANT_ID,
            userId: user.id,
            roleIds: roles,
          })
        ).revision;
      }
    }
    return { created: true, revision, skipped };
  });
}
