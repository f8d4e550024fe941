import { fileURLToPath } from "node:url";
import pg from "pg";
import { runner } from "node-pg-migrate";

/** The SQL migrations shipped with Sheriff (`migrations/` at the package root, from src/ and dist/ alike). */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../../migrations", import.meta.url));

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A pool on Sheriff's history database, every query inside one schema. */
export interface Database {
  pool: pg.Pool;
  schema: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  schema?: string;
  max?: number;
  /** Shown in pg_stat_activity, so an operator (or a test) can tell this process's connections apart. */
  applicationName?: string;
  /** Called for errors on idle connections (a restarted server): queries in flight fail and are retried by their jobs. */
  onIdleError?: (err: Error) => void;
}

export function connectDatabase(url: string, options: DatabaseOptions = {}): Database {
  const schema = options.schema ?? "public";
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid database schema name ${JSON.stringify(schema)}`);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 10_000,
    application_name: options.applicationName ?? "sheriff",
  });
  pool.on("error", (err) => options.onIdleError?.(err));
  return {
    pool,
    schema,
    async close() {
      await pool.end();
    },
  };
}

/** A stable advisory-lock id per schema (31-bit FNV-1a of its name). */
function schemaLockId(schema: string): number {
  let hash = 0x811c9dc5;
  for (const ch of schema) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193);
  return hash >>> 1;
}

/** Brings the schema up to the newest migration; node-pg-migrate's advisory lock on the schema keeps concurrent starts apart. */
export async function migrate(db: Database): Promise<string[]> {
  const client = await db.pool.connect();
  const ignore = () => undefined;
  client.on("error", ignore);
  try {
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: "up",
      migrationsTable: "pgmigrations",
      schema: db.schema,
      createSchema: true,
      checkOrder: true,
      // Processes starting together wait for each other on their schema; other schemas migrate at the same time.
      advisoryLockMode: "wait",
      lockValue: schemaLockId(db.schema),
      log: () => undefined,
    });
    return applied.map((m) => m.name);
  } finally {
    client.off("error", ignore);
    client.release();
  }
}

/** Runs `work` in one transaction: every record it writes lands together or not at all. */
export async function transaction<T>(db: Database, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  // A connection whose ROLLBACK fails is not reused: its session state is unknown.
  let broken = false;
  // The server ending the session between two statements is reported here and by the next query, which fails the transaction.
  const onError = () => {
    broken = true;
  };
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const value = await work(client);
    await client.query("COMMIT");
    return value;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}
