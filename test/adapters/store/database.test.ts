import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { connectDatabase, migrate } from "../../../src/adapters/store/database.js";
import { DATABASE_URL } from "../../helpers/database.js";

describe("migrate", () => {
  it("brings one schema up from several processes starting at once, and other schemas alongside", async () => {
    const shared = `t_migrate_${randomBytes(4).toString("hex")}`;
    const other = `t_migrate_${randomBytes(4).toString("hex")}`;
    const pools = [shared, shared, shared, other].map((schema) => connectDatabase(DATABASE_URL, { schema, max: 2 }));
    try {
      const applied = await Promise.all(pools.map((db) => migrate(db)));
      // Exactly one of the three on the shared schema applied the migrations; the others found them done.
      expect(applied.slice(0, 3).filter((names) => names.length > 0)).toHaveLength(1);
      expect(applied[3]!.length).toBeGreaterThan(0);
      const tables = await pools[0]!.pool.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1", [shared]);
      expect(Number(tables.rows[0].n)).toBeGreaterThan(10);
    } finally {
      await pools[0]!.pool.query(`DROP SCHEMA IF EXISTS ${shared} CASCADE`);
      await pools[3]!.pool.query(`DROP SCHEMA IF EXISTS ${other} CASCADE`);
      await Promise.all(pools.map((db) => db.close()));
    }
  });

  it("refuses a schema name that is not a plain identifier", () => {
    expect(() => connectDatabase(DATABASE_URL, { schema: "x; DROP TABLE y" })).toThrow(/invalid database schema name/);
  });
});
