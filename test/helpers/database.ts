import { randomBytes } from "node:crypto";
import { connectDatabase, migrate, type Database } from "../../src/adapters/store/database.js";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

/**
 * A migrated schema no other test uses (or the given one, to restart on it) in the test
 * database; `cleanup` drops it with everything in it.
 */
export async function testDatabase(
  name: string,
  reuse?: string,
): Promise<Database & { cleanup(): Promise<void>; dropConnections(): Promise<number> }> {
  const schema =
    reuse ??
    `t_${name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .slice(0, 40)}_${randomBytes(4).toString("hex")}`;
  const db = connectDatabase(DATABASE_URL, { schema, max: 5, applicationName: schema });
  await migrate(db);
  return {
    ...db,
    /** Ends every server session of this test's pool, as a database restart or failover would. */
    async dropConnections() {
      const admin = connectDatabase(DATABASE_URL, { applicationName: `${schema}_admin` });
      try {
        const ended = await admin.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [
          schema,
        ]);
        return ended.rowCount ?? 0;
      } finally {
        await admin.close();
      }
    },
    async cleanup() {
      await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    },
  };
}
