import { randomBytes } from "node:crypto";
import { connectDatabase, migrate, type Database } from "../../src/adapters/store/database.js";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

/**
 * A migrated schema no other test uses (or the given one, to restart on it) in the test
 * database; `cleanup` drops it with everything in it.
 */
export async function testDatabase(name: string, reuse?: string): Promise<Database & { cleanup(): Promise<void> }> {
  const schema =
    reuse ??
    `t_${name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .slice(0, 40)}_${randomBytes(4).toString("hex")}`;
  const db = connectDatabase(DATABASE_URL, { schema, max: 5 });
  await migrate(db);
  return {
    ...db,
    async cleanup() {
      await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    },
  };
}
