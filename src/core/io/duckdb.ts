/**
 * DuckDB, recall's parquet engine, opened per job.
 * Loaded lazily: `@duckdb/node-api` is a 70 MB native module that commands
 * which never touch parquet must not pay for.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export type DuckDB = typeof import('@duckdb/node-api');

let mod: Promise<DuckDB> | undefined;
/**
 * The module through `require`: it is CommonJS, and `import()` of it has Node scan every one of its
 * 180 files for named exports first, which cost about 200 ms of CPU per process against about
 * 75 ms for `require`. The build bundles those files into one (scripts/bundle-duckdb.mjs), which
 * loads in about 65 ms against 110 for the package; without a build (tsx) the package loads.
 */
export const duckdb = (): Promise<DuckDB> => (mod ??= Promise.resolve(loadDuckDB()));

function loadDuckDB(): DuckDB {
  const require = createRequire(import.meta.url);
  const bundle = fileURLToPath(new URL('../../vendor/duckdb-node-api.cjs', import.meta.url));
  return (existsSync(bundle) ? require(bundle) : require('@duckdb/node-api')) as DuckDB;
}

/** "name" with embedded quotes doubled: safe for any column name. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
/** 'text' with embedded quotes doubled. */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;
/** A SQL list of string literals: ['a', 'b']. */
export const literalList = (items: readonly string[]): string => `[${items.map(literal).join(', ')}]`;

export interface OpenOptions {
  threads?: number;
  memoryLimit?: string;
  tempDirectory?: string;
}

export async function openDuckDB(options: OpenOptions = {}): Promise<DuckDBInstance> {
  const { DuckDBInstance } = await duckdb();
  const config: Record<string, string> = {
    // Row order of every output = input order (recall's contract).
    preserve_insertion_order: 'true',
    // No network, no telemetry, no surprise extension downloads.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  if (options.threads) config.threads = String(options.threads);
  if (options.memoryLimit) config.memory_limit = options.memoryLimit;
  if (options.tempDirectory) config.temp_directory = options.tempDirectory;
  return DuckDBInstance.create(':memory:', config);
}

let scratch: Promise<DuckDBInstance> | undefined;
/**
 * One in-memory, single-threaded instance per process, for short jobs that stage rows and COPY them
 * out (a profile ingest). Creating an instance registers every built-in function, 10-20 ms of CPU,
 * which is more than such a job's own work once a long-running process (a collector, a library
 * user) repeats it. Each caller takes its own connection and keeps its rows in TEMP tables, which
 * are private to the connection and dropped with it, so concurrent jobs never see each other.
 */
export function scratchDuckDB(): Promise<DuckDBInstance> {
  scratch ??= openDuckDB({ threads: 1 }).catch((e) => {
    scratch = undefined;
    throw e;
  });
  return scratch;
}

/** Rows of a query as plain JSON-able objects (bigints as strings). */
export async function queryRows<T = Record<string, unknown>>(c: DuckDBConnection, sql: string): Promise<T[]> {
  return (await c.runAndReadAll(sql)).getRowObjectsJson() as T[];
}

/**
 * Lock a connection's instance down to the files it needs before running SQL that came from a user's
 * config or flags (a `where` filter): `read` files and `write` folders stay reachable, every other
 * path (`read_text('/etc/...')`, a COPY elsewhere, ATTACH) is refused, and the settings are locked
 * so the SQL cannot turn access back on. Everything else the connection needs must be set first.
 */
export async function restrictFileAccess(
  c: DuckDBConnection,
  access: { read: readonly string[]; write: readonly string[] },
): Promise<void> {
  await c.run(`SET allowed_paths = ${literalList(access.read)}`);
  await c.run(`SET allowed_directories = ${literalList(access.write)}`);
  await c.run('SET enable_external_access = false');
  await c.run('SET lock_configuration = true');
}
