/**
 * recall's error vocabulary on the TypeScript side: every failure a user can
 * see is a RecallError with a stable code, an exit code, where it happened
 * (file, row, byte offset) and how to fix it. Errors from the native addon
 * (`ERR_RECALL_*`) and from Node (`ENOENT`, ...) are mapped here, once.
 */

/** Documented exit codes (docs/cli.md, "Exit codes"). */
export const ExitCode = {
  Ok: 0,
  /** A bug in recall: please report it. */
  Internal: 1,
  /** Bad flags or arguments. */
  Usage: 2,
  /** Input data is missing, malformed or corrupt. */
  BadInput: 3,
  /** A gate failed: a regression or a quality check. */
  GateFailed: 4,
  /** Interrupted (Ctrl-C / SIGINT); partial output was removed. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface Where {
  file?: string;
  /** 0-based row of tabular input. */
  row?: number;
  /** First bad byte. */
  offset?: number;
  /** Length of the bad byte range. */
  length?: number;
}

export interface RecallErrorOptions extends Where {
  exit?: ExitCode;
  fix?: string;
  cause?: unknown;
}

const { Internal, Usage, BadInput, GateFailed, Interrupted } = ExitCode;

/**
 * Every error code and the one exit code it ends with, whichever command raises it
 * (test/exit-codes.test.mjs checks that every code in src/ and native/ is listed here and that
 * `usage()` / `badInput()` agree with it). 2: the command line is wrong (a flag value, a path that
 * does not exist or is a folder where a file is expected, a lock held by another process); 3: the
 * data is wrong (a file's bytes, rows or values; a column a flag names that the input lacks).
 */
export const EXIT_CODES: Readonly<Record<string, ExitCode>> = {
  // usage: the command line
  ERR_RECALL_USAGE: Usage,
  // a benchmark's data package, Python module or npm peer is not installed (the fix names the command)
  ERR_RECALL_BENCH_SETUP: Usage,
  ERR_RECALL_NO_CONFIG: Usage,
  ERR_RECALL_UPDATES_WOULD_BE_LOST: Usage,
  ERR_RECALL_CLOSED: Usage,
  ERR_RECALL_UNKNOWN_FIELD: Usage,
  ERR_RECALL_FLAG: Usage,
  ERR_RECALL_NO_SUCH_PATH: Usage,
  ERR_RECALL_NOT_A_FILE: Usage,
  ERR_RECALL_NOT_A_FOLDER: Usage,
  ERR_RECALL_REMOTE_PATH: Usage,
  ERR_RECALL_NO_INPUT: Usage,
  ERR_RECALL_NO_KEYS: Usage,
  ERR_RECALL_NO_TOOLS: Usage,
  ERR_RECALL_LOCKED: Usage,
  ERR_RECALL_OUT_CONFLICT: Usage,
  ERR_RECALL_OUTPUTS: Usage,
  ERR_RECALL_NOT_PREPARED: Usage,
  ERR_RECALL_PARTS_MISSING: Usage,
  ERR_RECALL_BAD_SHARD_COUNT: Usage,
  ERR_RECALL_BAD_MEMORY_LIMIT: Usage,
  ERR_RECALL_BAD_WHERE: Usage,
  ERR_RECALL_REGEX: Usage,
  ERR_RECALL_FOLD_REGEX: Usage,
  ERR_RECALL_PER_UNIT: Usage,
  ERR_RECALL_LABELS_FROM: Usage,
  ERR_RECALL_LABEL_MISSING: Usage,
  ERR_RECALL_STORE_EMPTY_SELECTION: Usage,
  ERR_RECALL_STORE_VERSIONS: Usage,
  ERR_RECALL_NO_SUCH_REGRESSION: Usage,
  ERR_RECALL_GIT: Usage,
  ERR_RECALL_QUERY_SYNTAX: Usage,
  ERR_RECALL_NOT_ONLY_QUERY: Usage,
  ERR_RECALL_QUERY_TOO_LARGE: Usage,
  ERR_RECALL_BAD_BOOST: Usage,
  ERR_RECALL_STREAM_PARAMS: Usage,
  // bad data: input files, index files, records
  ERR_RECALL_IO: BadInput,
  ERR_RECALL_INPUT: BadInput,
  ERR_RECALL_CORRUPT: BadInput,
  ERR_RECALL_WAL_MISMATCH: BadInput,
  ERR_RECALL_WAL_GAP: BadInput,
  ERR_RECALL_INPUT_CHANGED: BadInput,
  ERR_RECALL_NOT_AN_INDEX: BadInput,
  ERR_RECALL_UNSUPPORTED_FORMAT: BadInput,
  ERR_RECALL_UNSUPPORTED: BadInput,
  ERR_RECALL_UNSUPPORTED_TYPE: BadInput,
  ERR_RECALL_NO_VERSION: BadInput,
  ERR_RECALL_BAD_CONFIG: BadInput,
  ERR_RECALL_BAD_PARQUET: BadInput,
  ERR_RECALL_BAD_ARROW: BadInput,
  ERR_RECALL_BAD_FBIN: BadInput,
  ERR_RECALL_READ_FAILED: BadInput,
  ERR_RECALL_SCHEMA_MISMATCH: BadInput,
  ERR_RECALL_NO_SUCH_COLUMN: BadInput,
  ERR_RECALL_NO_COLUMN: BadInput,
  ERR_RECALL_NO_KEY_COLUMN: BadInput,
  ERR_RECALL_BAD_COLUMN: BadInput,
  ERR_RECALL_BAD_KEY_TYPE: BadInput,
  ERR_RECALL_BAD_LIST_TYPE: BadInput,
  ERR_RECALL_BAD_KEY: BadInput,
  ERR_RECALL_BAD_REQUEST: BadInput,
  ERR_RECALL_BAD_INTERACTIONS: BadInput,
  ERR_RECALL_NULL_KEYS: BadInput,
  ERR_RECALL_NULL_ID: BadInput,
  ERR_RECALL_BAD_ROW: BadInput,
  ERR_RECALL_BAD_VECTOR: BadInput,
  ERR_RECALL_BAD_FILTER: BadInput,
  ERR_RECALL_BAD_RECORD: BadInput,
  ERR_RECALL_BAD_UTF8: BadInput,
  ERR_RECALL_NO_F32: BadInput,
  ERR_RECALL_MISSING: BadInput,
  ERR_RECALL_DIM_MISMATCH: BadInput,
  ERR_RECALL_K_TOO_LARGE: BadInput,
  ERR_RECALL_DOC_TOO_LARGE: BadInput,
  ERR_RECALL_TOO_LARGE: BadInput,
  ERR_RECALL_ANALYZER_MISMATCH: BadInput,
  ERR_RECALL_BAD_BASELINE: BadInput,
  ERR_RECALL_BENCH_DATA: BadInput,
  ERR_RECALL_PROFILE: BadInput,
  ERR_RECALL_PROFILE_EMPTY: BadInput,
  ERR_RECALL_PROFILE_UNITS: BadInput,
  ERR_RECALL_PROFILE_EVENTS: BadInput,
  ERR_RECALL_STORE: BadInput,
  // gates, interrupts, and our own bugs
  ERR_RECALL_GATE: GateFailed,
  ERR_RECALL_CANCELLED: Interrupted,
  ERR_RECALL_INTERNAL: Internal,
  ERR_RECALL_PANIC: Internal,
  ERR_RECALL_NAPI: Internal,
  ERR_RECALL_INVALID_ARG: Internal,
  ERR_RECALL_LENGTH_MISMATCH: Internal,
  ERR_RECALL_UNALIGNED: Internal,
  ERR_RECALL_ISA_UNSUPPORTED: Internal,
  ERR_RECALL_NATIVE_MISSING: Internal,
  ERR_RECALL_BENCH: Internal,
};

/** The exit code of an error code: the table, else the raiser's choice, else a bug (1). */
export const exitCodeOf = (code: string, fallback: ExitCode = Internal): ExitCode => EXIT_CODES[code] ?? fallback;

export class RecallError extends Error {
  readonly code: string;
  readonly exit: ExitCode;
  readonly where: Where;
  readonly fix?: string;

  constructor(code: string, message: string, options: RecallErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'RecallError';
    this.code = code;
    this.exit = exitCodeOf(code, options.exit);
    this.fix = options.fix;
    const { file, row, offset, length } = options;
    this.where = Object.fromEntries(Object.entries({ file, row, offset, length }).filter(([, v]) => v !== undefined));
  }

  /** The one line a user sees: where, what, fix. */
  oneLine(): string {
    const w = this.where;
    const place = [w.file, w.row !== undefined ? `row ${w.row}` : undefined, w.offset !== undefined ? `byte ${w.offset}` : undefined]
      .filter(Boolean)
      .join(', ');
    const what = place && !this.message.startsWith(w.file ?? '\0') ? `${place}: ${this.message}` : this.message;
    return this.fix ? `${what} (fix: ${this.fix})` : what;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, exit: this.exit, message: this.message, ...this.where, ...(this.fix ? { fix: this.fix } : {}) };
  }
}

export const badInput = (code: string, message: string, options: Omit<RecallErrorOptions, 'exit'> = {}) =>
  new RecallError(code, message, { ...options, exit: ExitCode.BadInput });

export const usage = (code: string, message: string, options: Omit<RecallErrorOptions, 'exit'> = {}) =>
  new RecallError(code, message, { ...options, exit: ExitCode.Usage });

/** How native error codes map to exit codes and fixes. */
const NATIVE_FIX: Record<string, string> = {
  ERR_RECALL_CORRUPT: 'rebuild or re-copy the file; `recall verify` lists every bad range',
  ERR_RECALL_NOT_AN_INDEX: 'pass a file written by `recall build`',
  ERR_RECALL_UNSUPPORTED_FORMAT: 'use the recall version that wrote the file, or rebuild it',
  ERR_RECALL_LOCKED: 'wait for the other process to finish (the lock goes with it)',
  ERR_RECALL_NATIVE_MISSING: 'run `npm run build:native` (needs cargo)',
};

const WAL_CORRUPT_FIX =
  'restore the segment from a copy (`recall wal inspect` lists the damage); `recall dump` and `recall query` can pass --skip-corrupt to skip and count the damaged records; `wal append` never writes behind damage';

const NODE_IO: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'not a directory',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on device',
};

/**
 * oclif's parse errors span lines ("Parsing --x\n\tExpected ...\nSee more help", or a list under
 * "The following errors occurred:"): fold them to one line, the missing flags named together.
 */
export function foldParseError(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('See more help'));
  if (!/^The following errors? occurred:?$/.test(lines[0] ?? '')) return lines.join(': ');
  const missing: string[] = [];
  const other: string[] = [];
  for (const l of lines.slice(1)) {
    const m = /^Missing required flag:?\s+(?:--)?([\w-]+)/.exec(l);
    if (m) missing.push(`--${m[1]}`);
    else other.push(l.replace(/:$/, ''));
  }
  if (missing.length) other.unshift(`missing required flag${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  return other.join('; ');
}

/** Turn anything thrown into a RecallError (exit 1 for the unexpected). */
export function toRecallError(e: unknown, context: { command?: string } = {}): RecallError {
  if (e instanceof RecallError) return e;
  if (!(e instanceof Error)) return new RecallError('ERR_RECALL_INTERNAL', String(e));
  const err = e as Error & { code?: string; path?: string; offset?: number; length?: number; oclif?: { exit?: number } };
  if (err.name === 'AbortError' || err.code === 'ABORT_ERR') {
    return new RecallError('ERR_RECALL_CANCELLED', 'interrupted; partial output was removed', { exit: ExitCode.Interrupted, cause: e });
  }
  if (err.oclif?.exit !== undefined) {
    const message = foldParseError(err.message);
    const help = context.command ? `recall ${context.command} --help` : 'recall --help';
    return new RecallError('ERR_RECALL_USAGE', message, { exit: err.oclif.exit as ExitCode, fix: `see \`${help}\``, cause: e });
  }
  if (err.code?.startsWith('ERR_RECALL_') && EXIT_CODES[err.code] !== undefined && EXIT_CODES[err.code] !== Internal) {
    const fix = err.code === 'ERR_RECALL_CORRUPT' && err.path?.endsWith('.wal') ? WAL_CORRUPT_FIX : NATIVE_FIX[err.code];
    return new RecallError(err.code, err.message, { fix, file: err.path, offset: err.offset, length: err.length, cause: e });
  }
  if (err.code === 'ERR_RECALL_NATIVE_MISSING')
    return new RecallError(err.code, err.message, { fix: NATIVE_FIX[err.code], file: err.path, cause: e });
  if (err.code && NODE_IO[err.code] && err.path) {
    return new RecallError(`ERR_RECALL_IO`, `${err.path}: ${NODE_IO[err.code]}`, { exit: ExitCode.BadInput, file: err.path, cause: e });
  }
  return new RecallError(err.code?.startsWith('ERR_RECALL_') ? err.code : 'ERR_RECALL_INTERNAL', err.message, {
    exit: ExitCode.Internal,
    fix: 'this is a bug in recall: please report it with the output of --verbose',
    cause: e,
  });
}

/**
 * An error as plain data, to cross a worker thread: a thrown error loses its class and every own
 * property there (structured clone keeps only the message), so workers return this instead.
 */
export interface WireError {
  recallError: ReturnType<RecallError['toJSON']> & { stack?: string };
}

export const toWire = (e: unknown): WireError => {
  const r = toRecallError(e);
  return { recallError: { ...r.toJSON(), stack: (r.cause as Error | undefined)?.stack ?? r.stack } };
};

export const isWireError = (x: unknown): x is WireError => typeof x === 'object' && x !== null && 'recallError' in x;

export function fromWire(w: WireError): RecallError {
  const r = w.recallError as unknown as { code: string; exit: ExitCode; message: string; fix?: string; stack?: string } & Where;
  const { code, exit, message, file, row, offset, length, fix, stack } = r;
  const e = new RecallError(code, message, { exit, file, row, offset, length, fix });
  if (stack) e.stack = stack;
  return e;
}
