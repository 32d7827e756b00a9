import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { createPolicyAdmin } from "../admin/policy-admin.js";
import { openDatabase } from "./database.js";
import { MIGRATIONS, migrate } from "./migrations.js";
import { sqliteStore } from "./sqlite-policy-store.js";
import {
  createToken,
  hashToken,
  principalOfRow,
  revokeToken,
  TOKEN_PRINCIPAL_COLUMNS,
  type TokenRow,
  verifyToken,
} from "./tokens.js";

let temp: TempDatabase;
beforeEach(async () => {
  const catalog = testCatalog();
  temp = createTempDatabase(catalog);
  const admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
  await admin.createTenant({ kind: "bootstrap" }, { tenantId: "acme", name: "Acme", systems: ["iadvize"] });
  await admin.createUser({ kind: "bootstrap" }, { tenantId: "acme", userId: "carol", displayName: "Carol" });
});
afterEach(() => temp.cleanup());

describe("admin tokens", () => {
  it("hands out an rc_ token once and keeps only its SHA-256", () => {
    const { token, id } = createToken(temp.db, { kind: "user", tenantId: "acme", userId: "carol" });
    expect(token).toMatch(/^rc_[A-Za-z0-9_-]{43}$/);
    expect(id).toBe(hashToken(token));
    const stored = JSON.stringify(temp.db.prepare("SELECT * FROM admin_tokens").all());
    expect(stored).not.toContain(token.slice(3));
    expect(verifyToken(temp.db, token)).toEqual({ kind: "user", tenantId: "acme", userId: "carol" });
  });

  it("verifies a bootstrap token and rejects unknown, malformed and revoked ones", () => {
    const { token } = createToken(temp.db, { kind: "bootstrap" }, { label: "ci" });
    expect(verifyToken(temp.db, token)).toEqual({ kind: "bootstrap" });
    expect(verifyToken(temp.db, `${token}x`)).toBeNull();
    expect(verifyToken(temp.db, "not-a-token")).toBeNull();
    expect(revokeToken(temp.db, token)).toBe(true);
    expect(revokeToken(temp.db, token)).toBe(false);
    expect(verifyToken(temp.db, token)).toBeNull();
  });

  it("revokes by id and refuses a token for an unknown user", () => {
    const { token, id } = createToken(temp.db, { kind: "bootstrap" });
    expect(revokeToken(temp.db, id)).toBe(true);
    expect(verifyToken(temp.db, token)).toBeNull();
    expect(() => createToken(temp.db, { kind: "user", tenantId: "acme", userId: "zed" })).toThrow(
      /unknown user 'zed'/,
    );
  });

  it("keeps a service token's tenant, name and explanation right, and refuses unknown tenants and odd names", () => {
    const service = { kind: "service", tenantId: "acme", name: "gateway", explanations: true } as const;
    const { token } = createToken(temp.db, service);
    expect(verifyToken(temp.db, token)).toEqual(service);
    const plain = createToken(temp.db, { ...service, name: "pep-2", explanations: false });
    expect(verifyToken(temp.db, plain.token)).toEqual({ ...service, name: "pep-2", explanations: false });
    expect(() => createToken(temp.db, { ...service, tenantId: "nope" })).toThrow(/unknown tenant 'nope'/);
    expect(() => createToken(temp.db, { ...service, name: "two words" })).toThrow(/service name 'two words'/);
    // The schema itself refuses a service row without its name (what a hand-written INSERT would do).
    expect(() =>
      temp.db
        .prepare(
          "INSERT INTO admin_tokens (hash, principal_kind, tenant_id, created_at) VALUES ('h', 'service', 'acme', 'now')",
        )
        .run(),
    ).toThrow(/CHECK constraint/);
  });

  it("migrates version 4 tokens to version 5 (service tokens) unchanged", () => {
    const db = openDatabase(":memory:");
    try {
      migrate(db, { migrations: MIGRATIONS.filter((m) => m.version <= 4) });
      db.prepare(
        "INSERT INTO admin_tokens (hash, principal_kind, tenant_id, user_id, label, created_at, revoked_at) VALUES ('u', 'user', 'acme', 'carol', 'ci', 'now', NULL), ('b', 'bootstrap', NULL, NULL, '', 'now', 'later')",
      ).run();
      migrate(db);
      const rows = db
        .prepare(`SELECT hash, label, revoked_at, ${TOKEN_PRINCIPAL_COLUMNS} FROM admin_tokens ORDER BY hash`)
        .all() as (TokenRow & { hash: string; label: string; revoked_at: string | null })[];
      expect(rows.map((r) => [r.hash, r.label, r.revoked_at, principalOfRow(r)])).toEqual([
        ["b", "", "later", { kind: "bootstrap" }],
        ["u", "ci", null, { kind: "user", tenantId: "acme", userId: "carol" }],
      ]);
    } finally {
      db.close();
    }
  });
});
