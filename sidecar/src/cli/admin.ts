/**
 * `rolecall admin ...`: every admin operation, as the bootstrap principal (access to the store
 * is the credential): on the SQLite file, or with `--primary` on a fleet's PostgreSQL primary.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { PolicyAdmin } from "../admin/policy-admin.js";
import type { Principal } from "../admin/principal.js";
import type { AppRegistration } from "../apps/app-registry.js";
import { openCliStore, STORE_FLAGS, STORE_FLAGS_HELP, storeTargetOf } from "./cli-store.js";
import { print, type StoreAccess } from "./local-store.js";
import { UsageError } from "./usage-error.js";

const BOOTSTRAP: Principal = { kind: "bootstrap" };

/** One admin subcommand: its argument names (a trailing `...` takes the rest) and what it does. */
interface AdminOp {
  readonly args: readonly string[];
  /** Whether it writes (refused on a follower's copy) or only reads. */
  readonly access: StoreAccess;
  readonly summary: string;
  readonly run: (admin: PolicyAdmin, a: Readonly<Record<string, string[]>>, flags: AdminFlags) => unknown;
}

interface AdminFlags {
  readonly system: readonly string[];
  readonly owner: readonly string[];
  readonly license: readonly string[];
  readonly basedOn: string | undefined;
  readonly cascade: boolean;
  readonly tenant: string | undefined;
  readonly pageSize: number | undefined;
  readonly pageToken: string | undefined;
}

const one = (a: Readonly<Record<string, string[]>>, name: string): string => a[name]![0]!;

const OPS: Readonly<Record<string, AdminOp>> = {
  tenants: {
    args: [],
    access: "read",
    summary: "list tenants",
    run: (admin) => admin.listTenants(BOOTSTRAP),
  },
  users: {
    args: ["TENANT"],
    access: "read",
    summary: "list a tenant's users",
    run: (admin, a) => admin.listUsers(BOOTSTRAP, { tenantId: one(a, "TENANT") }),
  },
  roles: {
    args: ["TENANT"],
    access: "read",
    summary: "list roles with grants, licenses and holders",
    run: (admin, a) => admin.listRoles(BOOTSTRAP, { tenantId: one(a, "TENANT") }),
  },
  "license-usage": {
    args: ["TENANT", "LICENSE"],
    access: "read",
    summary: "seats used and available",
    run: (admin, a) =>
      admin.getLicenseUsage(BOOTSTRAP, { tenantId: one(a, "TENANT"), licenseId: one(a, "LICENSE") }),
  },
  audit: {
    args: [],
    access: "read",
    summary: "admin writes, newest first (--tenant, --page-size, --page-token)",
    run: (admin, _a, f) =>
      admin.listAuditEvents(BOOTSTRAP, {
        ...(f.tenant ? { tenantId: f.tenant } : {}),
        ...(f.pageSize ? { pageSize: f.pageSize } : {}),
        ...(f.pageToken ? { pageToken: f.pageToken } : {}),
      }),
  },
  "create-tenant": {
    args: ["TENANT", "NAME"],
    access: "write",
    summary:
      "create a tenant with --system S (none: only its own systems) and --owner USER (both repeatable)",
    run: (admin, a, f) =>
      admin.createTenant(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        name: one(a, "NAME"),
        systems: f.system,
        ownerUserIds: f.owner,
      }),
  },
  "set-owners": {
    args: ["TENANT", "USER..."],
    access: "write",
    summary: "replace a tenant's owners (users who may run every admin operation in it)",
    run: (admin, a) =>
      admin.setTenantOwners(BOOTSTRAP, { tenantId: one(a, "TENANT"), ownerUserIds: a["USER..."]! }),
  },
  "create-user": {
    args: ["TENANT", "USER", "NAME"],
    access: "write",
    summary: "create a user",
    run: (admin, a) =>
      admin.createUser(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        userId: one(a, "USER"),
        displayName: one(a, "NAME"),
      }),
  },
  "set-active": {
    args: ["TENANT", "USER", "true|false"],
    access: "write",
    summary: "activate or deactivate a user",
    run: (admin, a) => {
      const value = one(a, "true|false");
      if (value !== "true" && value !== "false")
        throw new UsageError("the last argument must be true or false");
      return admin.setUserActive(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        userId: one(a, "USER"),
        active: value === "true",
      });
    },
  },
  "create-role": {
    args: ["TENANT", "NAME"],
    access: "write",
    summary: "create a custom role (--based-on ROLE, --license L repeatable)",
    run: (admin, a, f) =>
      admin.createRole(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        name: one(a, "NAME"),
        ...(f.basedOn ? { basedOnRoleId: f.basedOn } : {}),
        licenseIds: f.license,
      }),
  },
  "rename-role": {
    args: ["TENANT", "ROLE", "NAME"],
    access: "write",
    summary: "rename a role",
    run: (admin, a) =>
      admin.renameRole(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        roleId: one(a, "ROLE"),
        name: one(a, "NAME"),
      }),
  },
  "delete-role": {
    args: ["TENANT", "ROLE"],
    access: "write",
    summary: "delete a custom role nobody holds",
    run: (admin, a) => admin.deleteRole(BOOTSTRAP, { tenantId: one(a, "TENANT"), roleId: one(a, "ROLE") }),
  },
  grant: {
    args: ["TENANT", "ROLE", "PERMISSION..."],
    access: "write",
    summary: "grant permissions (with what they require and imply)",
    run: (admin, a) =>
      admin.grantPermissions(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        roleId: one(a, "ROLE"),
        permissions: a["PERMISSION..."]!,
      }),
  },
  revoke: {
    args: ["TENANT", "ROLE", "PERMISSION..."],
    access: "write",
    summary: "revoke permissions (--cascade to revoke their dependents too)",
    run: (admin, a, f) =>
      admin.revokePermissions(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        roleId: one(a, "ROLE"),
        permissions: a["PERMISSION..."]!,
        cascade: f.cascade,
      }),
  },
  "set-role-licenses": {
    args: ["TENANT", "ROLE", "LICENSE..."],
    access: "write",
    summary: "replace the license types a role is associated with",
    run: (admin, a) =>
      admin.setRoleLicenses(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        roleId: one(a, "ROLE"),
        licenseIds: a["LICENSE..."]!,
      }),
  },
  "set-seats": {
    args: ["TENANT", "LICENSE", "SEATS"],
    access: "write",
    summary: "set a tenant's seats for a license",
    run: (admin, a) => {
      const seats = Number(one(a, "SEATS"));
      if (!Number.isInteger(seats))
        throw new UsageError(`SEATS must be a whole number, got '${one(a, "SEATS")}'`);
      return admin.setLicenseSeats(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        licenseId: one(a, "LICENSE"),
        seats,
      });
    },
  },
  assign: {
    args: ["TENANT", "USER", "ROLE..."],
    access: "write",
    summary: "give roles to a user",
    run: (admin, a) =>
      admin.assignRoles(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        userId: one(a, "USER"),
        roleIds: a["ROLE..."]!,
      }),
  },
  unassign: {
    args: ["TENANT", "USER", "ROLE..."],
    access: "write",
    summary: "take roles from a user",
    run: (admin, a) =>
      admin.unassignRoles(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        userId: one(a, "USER"),
        roleIds: a["ROLE..."]!,
      }),
  },
  apps: {
    args: ["TENANT"],
    access: "read",
    summary: "list registered apps",
    run: (admin, a) => admin.listApps(BOOTSTRAP, { tenantId: one(a, "TENANT") }),
  },
  "put-app": {
    args: ["TENANT", "FILE"],
    access: "write",
    summary: "register or replace an app from a JSON file (shape of rolecall.v1.App, camelCase)",
    run: (admin, a) => {
      let app: Partial<AppRegistration>;
      try {
        app = JSON.parse(readFileSync(one(a, "FILE"), "utf8")) as Partial<AppRegistration>;
      } catch (err) {
        throw new UsageError(`cannot read app file '${one(a, "FILE")}': ${(err as Error).message}`);
      }
      return admin.putApp(BOOTSTRAP, {
        tenantId: one(a, "TENANT"),
        app: {
          appId: app.appId ?? "",
          name: app.name ?? "",
          baseUrl: app.baseUrl ?? "",
          pages: app.pages ?? [],
          selectors: app.selectors ?? [],
          subject: app.subject ?? { kind: "meta" },
        },
      });
    },
  },
  "delete-app": {
    args: ["TENANT", "APP"],
    access: "write",
    summary: "remove a registered app",
    run: (admin, a) => admin.deleteApp(BOOTSTRAP, { tenantId: one(a, "TENANT"), appId: one(a, "APP") }),
  },
  "list-systems": {
    args: ["TENANT"],
    access: "read",
    summary: "list a tenant's systems: the vendor ones it has and its own",
    run: (admin, a) => admin.listSystems(BOOTSTRAP, { tenantId: one(a, "TENANT") }),
  },
  "put-system": {
    args: ["TENANT", "FILE"],
    access: "write",
    summary: "add or replace the tenant's own system from a JSON file (schema of catalog/data/*.json)",
    run: (admin, a) => {
      const file = one(a, "FILE");
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        throw new UsageError(`cannot read system file '${file}': ${(err as Error).message}`);
      }
      return admin.putSystem(BOOTSTRAP, { tenantId: one(a, "TENANT"), system: { text }, fileName: file });
    },
  },
  "delete-system": {
    args: ["TENANT", "SYSTEM"],
    access: "write",
    summary: "remove the tenant's own system (no role may grant its permissions)",
    run: (admin, a) =>
      admin.deleteSystem(BOOTSTRAP, { tenantId: one(a, "TENANT"), systemId: one(a, "SYSTEM") }),
  },
};

/** Help of `rolecall admin`. */
export const ADMIN_HELP = `Usage: rolecall admin OPERATION ARGS... [options]

Runs an admin operation as the bootstrap principal, with the same rules and audit as the
AdminService. On the SQLite file, a running sidecar picks the change up within its poll interval;
with --primary, the write commits on the fleet's PostgreSQL primary and every sidecar following
it picks it up. Each write prints the new revision. A follower's copy (--db of a sidecar started
with --primary) can be read but not written: pass --primary.

Operations:
${Object.entries(OPS)
  .map(([name, op]) => `  ${`${name} ${op.args.join(" ")}`.padEnd(44)} ${op.summary}`)
  .join("\n")}

Options:
${STORE_FLAGS_HELP}
  --json            machine-readable output
`;

function bindArgs(op: AdminOp, name: string, positionals: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const rest = op.args.at(-1)?.endsWith("...") ?? false;
  const fixed = rest ? op.args.length - 1 : op.args.length;
  if (positionals.length < op.args.length || (!rest && positionals.length > fixed)) {
    throw new UsageError(`usage: rolecall admin ${name} ${op.args.join(" ")}`);
  }
  op.args.forEach((arg, i) => {
    out[arg] = arg.endsWith("...") ? positionals.slice(i) : [positionals[i]!];
  });
  return out;
}

/** Runs `rolecall admin`. */
export async function adminCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...STORE_FLAGS,
      json: { type: "boolean" },
      system: { type: "string", multiple: true },
      owner: { type: "string", multiple: true },
      license: { type: "string", multiple: true },
      "based-on": { type: "string" },
      cascade: { type: "boolean" },
      tenant: { type: "string" },
      "page-size": { type: "string" },
      "page-token": { type: "string" },
    },
  });
  const [name, ...rest] = positionals;
  const op = name === undefined ? undefined : OPS[name];
  if (!op) throw new UsageError(name === undefined ? "name an operation" : `unknown operation '${name}'`);
  const args = bindArgs(op, name!, rest);
  const store = await openCliStore(storeTargetOf(values), op.access);
  try {
    const result = await op.run(store.admin, args, {
      system: values.system ?? [],
      owner: values.owner ?? [],
      license: values.license ?? [],
      basedOn: values["based-on"],
      cascade: values.cascade ?? false,
      tenant: values.tenant,
      pageSize: values["page-size"] === undefined ? undefined : Number(values["page-size"]),
      pageToken: values["page-token"],
    });
    print(values.json ?? false, result, () => JSON.stringify(result, null, 2));
    return 0;
  } finally {
    await store.close();
  }
}
