/**
 * recall's error vocabulary on the TypeScript side: every failure a user can
 * see is a RecallError with a stable code, an exit code, where it happened
 * (file, row, byte offset) and how to fix it. Errors from the native addon
 * (`ERR_RECALL_*`) and from Node (`ENOENT`, ...) are mapped here, once.
 */

/** Documented exit codes (README "Exit codes"). */
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

export class RecallError extends Error {
  readonly code: string;
  readonly exit: ExitCode;
  readonly where: Where;
  readonly fix?: string;

  constructor(code: string, message: string, options: RecallErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'RecallError';
    this.code = code;
    this.exit = options.exit ?? ExitCode.Internal;
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
const NATIVE: Record<string, { exit: ExitCode; fix?: string }> = {
  ERR_RECALL_CORRUPT: { exit: ExitCode.BadInput, fix: 'rebuild or re-copy the file; `recall verify` lists every bad range' },
  ERR_RECALL_NOT_AN_INDEX: { exit: ExitCode.BadInput, fix: 'pass a file written by `recall build`' },
  ERR_RECALL_UNSUPPORTED_FORMAT: { exit: ExitCode.BadInput, fix: 'use the recall version that wrote the file, or rebuild it' },
  ERR_RECALL_IO: { exit: ExitCode.BadInput },
  ERR_RECALL_CANCELLED: { exit: ExitCode.Interrupted },
  ERR_RECALL_LOCKED: { exit: ExitCode.Usage, fix: 'wait for the other process to finish (the lock goes with it)' },
  ERR_RECALL_NATIVE_MISSING: { exit: ExitCode.Internal, fix: 'run `npm run build:native` (needs cargo)' },
};

const WAL_CORRUPT_FIX =
  'restore the segment from a copy; `recall dump` and `recall query` can pass --skip-corrupt to skip and count the record';

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
  if (err.code && NATIVE[err.code]) {
    const m = NATIVE[err.code]!;
    const fix = err.code === 'ERR_RECALL_CORRUPT' && err.path?.endsWith('.wal') ? WAL_CORRUPT_FIX : m.fix;
    return new RecallError(err.code, err.message, { exit: m.exit, fix, file: err.path, offset: err.offset, length: err.length, cause: e });
  }
  if (err.code && NODE_IO[err.code] && err.path) {
    return new RecallError(`ERR_RECALL_IO`, `${err.path}: ${NODE_IO[err.code]}`, { exit: ExitCode.BadInput, file: err.path, cause: e });
  }
  return new RecallError(err.code?.startsWith('ERR_RECALL_') ? err.code : 'ERR_RECALL_INTERNAL', err.message, {
    exit: ExitCode.Internal,
    fix: 'this is a bug in recall: please report it with the output of --verbose',
    cause: e,
  });
}
