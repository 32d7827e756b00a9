/**
 * The shape of the permission catalog: one data file per system (`catalog/data/<system>.json`),
 * produced by that system's importer from its documentation and merged with the hand-kept
 * overrides file (`catalog/import/overrides/<system>.yaml`).
 *
 * Inside a system's data file every key (permission, license, role, surface) is *local*
 * (`view-contacts`); the loader qualifies them as `system/key` (`calabrio-one/view-contacts`).
 * Requirement and implication references may be local (same system) or qualified.
 */

import type { AdminAction } from "./catalog.js";

/** A requirement over permission keys: a key, all of a list, or any one of a list. */
export type RequirementExpr =
  | string
  | { readonly all: readonly RequirementExpr[] }
  | { readonly any: readonly RequirementExpr[] };

/** Whether a permission is in use in the product today. */
export type PermissionStatus = "active" | "unused";

/** For systems that pair tenant-wide and own-interaction variants (`NOTES_READ_ALL` / `NOTES_READ_SELF`). */
export type PermissionScope = "all" | "self";

/** What kind of UI element a surface is. */
export type SurfaceKind = "page" | "panel" | "tab" | "button" | "menu-item" | "widget";

/** Who holds a license: a user through a role associated with it (the default), or the tenant itself. */
export type LicenseHolder = "role" | "tenant";

/**
 * A rule of an entry that an importer or an override derived and the vendor's document does not
 * state: we chose it, and say why. Every data file carries its own assumptions, so the catalog
 * never presents a guess as a vendor rule.
 */
export interface Assumption {
  /** The field of the entry the assumption is about (`requires`, `grants`); absent: the entry as a whole. */
  readonly field?: string;
  /** Why, in our own words. */
  readonly reason: string;
}

/** One permission as written in a system's data file. */
export interface PermissionEntry {
  /** Local key: the documented identifier (Zoom, CxEngage) or a slug of the name (the others). */
  readonly key: string;
  /** The name as the vendor shows it. */
  readonly name: string;
  /** Category id (a key of the system's `categories`). */
  readonly category: string;
  /** A short line in our own words. */
  readonly summary: string;
  /** Where in the product it opens something (vendor breadcrumbs such as `Application Management > Roles`). */
  readonly pages: readonly string[];
  /** License ids (local) any one of which suffices; empty means no license is needed. */
  readonly licenses: readonly string[];
  /** What must also be held; `null` when nothing. */
  readonly requires: RequirementExpr | null;
  /** Permissions granted along with this one (local or qualified keys). */
  readonly implies: readonly string[];
  /** `unused` for permissions the vendor documents as not currently used. */
  readonly status: PermissionStatus;
  /** Both the acting user and the target user must hold it (Calabrio "both the agent and the monitor"). */
  readonly mutual: boolean;
  /** `all` / `self` where the system has both variants of a permission; `null` otherwise. */
  readonly scope: PermissionScope | null;
  /**
   * What the *acting* user must also hold to use it, on top of `requires` (Calabrio: "monitors
   * also need Agent Monitoring"). Only meaningful on a mutual permission's monitoring side: the
   * target of a mutual check need not meet it, and holding the permission (for requirements,
   * surfaces, admin rights) does not depend on it. Absent or `null`: nothing more.
   */
  readonly actorRequires?: RequirementExpr | null;
  /**
   * License ids the tenant itself must have in its pool, every one of them, whatever the user's
   * roles carry (Calabrio: "your organization must have a ... license"). Absent: none.
   */
  readonly tenantLicenses?: readonly string[];
  /** The rules of this entry we derived rather than read in the document. Absent: none. */
  readonly assumptions?: readonly Assumption[];
}

/** Every required field of a permission entry, in file order (the loader and the overrides both check them). */
export const PERMISSION_FIELDS: readonly (keyof PermissionEntry)[] = [
  "key",
  "name",
  "category",
  "summary",
  "pages",
  "licenses",
  "requires",
  "implies",
  "status",
  "mutual",
  "scope",
];

/** The optional fields of a permission entry, after the required ones in file order. */
export const OPTIONAL_PERMISSION_FIELDS: readonly (keyof PermissionEntry)[] = [
  "actorRequires",
  "tenantLicenses",
  "assumptions",
];

/** A category heading of a system's permission table. */
export interface CategoryEntry {
  readonly id: string;
  readonly name: string;
  /** Absent: none. */
  readonly assumptions?: readonly Assumption[];
}

/** A license type a role can be associated with. */
export interface LicenseEntry {
  /** Local id: slug of the name (`quality-management`). */
  readonly id: string;
  readonly name: string;
  /**
   * `tenant`: held by the organisation, so every user of a tenant that has it in its pool holds
   * it without any role (Calabrio's Interaction Summary). Absent: `role`.
   */
  readonly heldBy?: LicenseHolder;
  /** `false` when the vendor sells no more of it: no seats can be added. Absent: `true`. */
  readonly purchasable?: boolean;
  /**
   * Permissions (local or qualified keys) a role is given when it becomes associated with this
   * license, as the product ticks them by default; like any grant they can be revoked later.
   * Absent: none.
   */
  readonly defaultGrants?: readonly string[];
  /** Absent: none. */
  readonly assumptions?: readonly Assumption[];
}

/** A role every tenant that enables the system starts with. */
export interface DefaultRoleEntry {
  /** Local id (`administrator`). */
  readonly id: string;
  readonly name: string;
  /** Permissions the role starts with. */
  readonly grants: readonly string[];
  /** Permissions that can never be revoked from it (a subset of `grants`). */
  readonly required: readonly string[];
  /** License ids the role starts associated with. */
  readonly licenses: readonly string[];
  /** Whether custom roles are based on it (iAdvize's Manager). */
  readonly template: boolean;
  /** Absent: none. */
  readonly assumptions?: readonly Assumption[];
}

/** A UI element whose visibility depends on permissions. */
export interface SurfaceEntry {
  /** Local id (`contact-management-panel`); qualified `cxengage/contact-management-panel`. */
  readonly id: string;
  readonly label: string;
  readonly kind: SurfaceKind;
  /** Vendor breadcrumb of where it lives, for people. */
  readonly location: string;
  /**
   * Path pattern, relative to the application's base URL, of the pages it appears on; `*` matches
   * any run of characters (`/calabrio-one/recordings*`). The demo app serves these paths under `/demo`.
   */
  readonly urlPattern: string;
  /** CSS selector used when the page carries no `data-rolecall-surface="<qualified id>"` attribute. */
  readonly selector: string;
  /** What a user needs for the element to be shown. */
  readonly requires: RequirementExpr;
  /** Absent: none. */
  readonly assumptions?: readonly Assumption[];
}

/**
 * Which permissions of the system give one admin action over it (`ADMIN_ACTIONS` in
 * `catalog.ts`), and on what authority. Several entries may name the same action (their
 * permissions add up).
 */
export interface AdminRightEntry {
  readonly action: AdminAction;
  /** This system's permission keys (local, or qualified with its own id); any one gives the action. */
  readonly permissions: readonly string[];
  /** The vendor document it comes from: the seed file name (`calabrio-one-roles-and-permissions.txt`). */
  readonly document: string;
  /** The section or permission entry of that document it rests on. */
  readonly section: string;
  /** Why, in our own words. */
  readonly reason: string;
  /** True when the document does not say so and we chose; default false. */
  readonly assumed?: boolean;
}

/** One system's data file. */
export interface SystemFile {
  readonly id: string;
  readonly name: string;
  /**
   * Which permissions give which admin action over this system. Absent or empty: no permission
   * does, and only the tenant's owners (and the bootstrap principal) administer it.
   */
  readonly adminRights?: readonly AdminRightEntry[];
  /**
   * @deprecated The format before `adminRights`: permissions (local keys, any one) that gave every
   * admin write. Still loaded when `adminRights` is absent, read as the right to edit and assign
   * roles (`assumed`); a file with both fields is refused.
   */
  readonly roleAdministration?: readonly string[];
  readonly categories: readonly CategoryEntry[];
  readonly licenses: readonly LicenseEntry[];
  readonly defaultRoles: readonly DefaultRoleEntry[];
  readonly permissions: readonly PermissionEntry[];
  readonly surfaces: readonly SurfaceEntry[];
}

/** The ids of the five seed systems, in catalog order. */
export const SYSTEM_IDS = [
  "calabrio-one",
  "zoom-contact-center",
  "cxengage",
  "maxcontact",
  "iadvize",
] as const;

/** Turns a vendor name into a key: lowercase, each run of characters other than a-z and 0-9 becomes one `-`, trimmed. */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
