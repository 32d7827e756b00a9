import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { testCatalog } from "../../../../test/support/store/test-catalog.js";
import { usePostgres } from "../../../../test/support/use-postgres.js";
import { createPolicyAdmin } from "../../admin/policy-admin.js";
import { principalOfRow, TOKEN_PRINCIPAL_COLUMNS, type TokenRow } from "../tokens.js";
import { importCatalogPg } from "./pg-catalog-import.js";
import { openPgStore, type PgPolicyStore } from "./pg-policy-store.js";
import { migratePg, PG_MIGRATIONS, PG_SCHEMA_VERSION } from "./pg-schema.js";
import { createTokenPg } from "./pg-tokens.js";

const catalog = testCatalog();
const server = usePostgres();
const opened: PgPolicyStore[] = [];
afterAll(async () => {
  for (const store of opened) await store.close();
});

async function principalOf(store: PgPolicyStore, id: string) {
  const rows = await store.readSql((query) =>
    query(`SELECT ${TOKEN_PRINCIPAL_COLUMNS} FROM admin_tokens WHERE hash = $1`, [id]),
  );
  return principalOfRow(rows.rows[0] as unknown as TokenRow);
}

describe("service tokens on PostgreSQL", () => {
  it("keeps a service token's principal and refuses an unknown tenant", async () => {
    const store = await openPgStore(await server().createDatabase("service_tokens"));
    opened.push(store);
    await importCatalogPg(store, catalog);
    await createPolicyAdmin(store, catalog).createTenant(
      { kind: "bootstrap" },
      { tenantId: "acme", name: "Acme", systems: ["iadvize"] },
    );
    const service = { kind: "service", tenantId: "acme", name: "gateway", explanations: true } as const;
    const { id } = await createTokenPg(store, service);
    expect(await principalOf(store, id)).toEqual(service);
    await expect(createTokenPg(store, { ...service, tenantId: "nope" })).rejects.toThrow(
      "unknown tenant 'nope'",
    );
    await expect(
      store.writeSql((query) =>
        query(
          "INSERT INTO admin_tokens (hash, principal_kind, tenant_id, created_at) VALUES ('h', 'service', 'acme', 'now')",
        ),
      ),
    ).rejects.toThrow(/check constraint/);
  });

  it("migrates version 4 tokens to version 5 (service tokens) unchanged", async () => {
    const url = await server().createDatabase("tokens_v4");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await migratePg(client, { migrations: PG_MIGRATIONS.filter((m) => m.version <= 4) });
      await client.query(
        "INSERT INTO admin_tokens (hash, principal_kind, tenant_id, user_id, created_at) VALUES ('u', 'user', 'acme', 'carol', 'now'), ('b', 'bootstrap', NULL, NULL, 'now')",
      );
      expect(await migratePg(client)).toEqual({ from: 4, to: PG_SCHEMA_VERSION });
      const rows = await client.query(
        `SELECT hash, ${TOKEN_PRINCIPAL_COLUMNS} FROM admin_tokens ORDER BY hash`,
      );
      expect(rows.rows.map((r) => [r.hash, principalOfRow(r as TokenRow)])).toEqual([
        ["b", { kind: "bootstrap" }],
        ["u", { kind: "user", tenantId: "acme", userId: "carol" }],
      ]);
    } finally {
      await client.end();
    }
  });
});
