/**
 * Streaming text input for the profile readers: gzip is undone on the fly,
 * the encoding comes from the BOM (UTF-8, UTF-16 LE/BE), CRLF is accepted,
 * and lines are handed to a synchronous callback a chunk at a time, so a
 * 1 GB `perf script` file never needs 1 GB of heap. A line longer than one
 * chunk is gathered in pieces and joined once (linear in its length); the
 * bytes read after gunzip are bounded by `maxBytes` (--max-input-bytes).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAscii } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { createGunzip, gunzipSync } from 'node:zlib';
import { badInput } from '../errors.js';

const CHUNK = 1 << 20;

export const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Encoding named by a byte-order mark (utf-8 without one). */
export function encodingOf(b: Uint8Array): 'utf-8' | 'utf-16le' | 'utf-16be' {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}

/** The first bytes of a file (up to `n` raw bytes), gunzipped when it is gzip (for format and encoding detection). */
export async function readHead(path: string, n = 64 * 1024): Promise<Uint8Array> {
  return (await sniff(path, n)).head;
}

async function sniff(path: string, n: number): Promise<{ head: Uint8Array; gzip: boolean }> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw badInput('ERR_RECALL_INPUT', `${path}: cannot open (${e.code ?? e.message})`, { file: path, fix: 'check the path' });
  });
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    const head = buf.subarray(0, bytesRead);
    if (!isGzip(head)) return { head, gzip: false };
    // A partial gzip stream: inflate what is there.
    try {
      return { head: gunzipSync(head, { finishFlush: 2 /* Z_SYNC_FLUSH */ }).subarray(0, n), gzip: true };
    } catch {
      return { head: new Uint8Array(0), gzip: true };
    }
  } finally {
    await fh.close();
  }
}

/**
 * The chunks of a file read into one reused buffer: each is valid until the next is asked for.
 * A stream's fresh buffer per chunk cost 3-4x the system time (new pages faulted in) on 44 MB of
 * perf text; every consumer here is done with a chunk before it asks for the next.
 */
async function* plainChunks(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (!bytesRead) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

function openStream(path: string, gz: boolean, onRaw?: (chunk: Buffer) => void): AsyncIterable<Buffer> & { destroy?: () => void } {
  if (!gz) return plainChunks(path);
  const raw = createReadStream(path, { highWaterMark: CHUNK });
  const gunzip = createGunzip({ chunkSize: CHUNK });
  raw.on('error', (e) => gunzip.destroy(e));
  // pipe() reads by 'data' events, so one more listener sees every compressed chunk once.
  if (onRaw) raw.on('data', (c) => onRaw(c as Buffer));
  return raw.pipe(gunzip);
}

/** The default of --max-input-bytes: bytes of one profile input after gunzip. */
export const DEFAULT_MAX_INPUT_BYTES = 2 ** 31;
/** The longest line kept as one string (V8 strings stop at about 2^29 characters). */
const MAX_LINE_CHARS = 2 ** 28;

export function tooLarge(path: string, maxBytes: number, gz: boolean): never {
  throw badInput('ERR_RECALL_TOO_LARGE', `${path}: more than ${maxBytes} bytes${gz ? ' after gunzip' : ''} (--max-input-bytes)`, {
    file: path,
    fix: 'pass a larger --max-input-bytes if the file is really a profile this large',
  });
}

export interface LineStats {
  bytes: number;
  lines: number;
}

/** What receives the lines: a reader (perf, folded) with a `line` method. */
export interface LineSink {
  line(line: string, lineNo: number): void;
}

/**
 * Text cut into lines, handed to the sink. A class, not closures made per file: V8 keeps one
 * optimised copy of a method for the whole process, while a closure created per call is optimised
 * again for every file (a directory of profiles paid the compiler once per file).
 */
class LineSplitter {
  // The unfinished last line, in pieces: joined once when its end arrives, never re-scanned.
  private pieces: string[] = [];
  private pieceChars = 0;
  lineNo = 0;

  constructor(
    private readonly sink: LineSink,
    private readonly path: string,
  ) {}

  private line(s: string): void {
    this.sink.line(s.endsWith('\r') ? s.slice(0, -1) : s, ++this.lineNo);
  }

  emit(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      if (this.pieces.length) {
        this.pieces.push(text.slice(start, nl));
        this.line(this.pieces.join(''));
        this.pieces = [];
        this.pieceChars = 0;
      } else this.line(text.slice(start, nl));
      start = nl + 1;
    }
    if (start < text.length) {
      this.pieces.push(text.slice(start));
      this.pieceChars += text.length - start;
      if (this.pieceChars > MAX_LINE_CHARS)
        throw badInput('ERR_RECALL_TOO_LARGE', `${this.path}: line ${this.lineNo + 1} is longer than ${MAX_LINE_CHARS} characters`, {
          file: this.path,
          fix: 'pass perf script text, folded stacks (one stack per line) or a pprof protobuf',
        });
    }
  }

  end(): void {
    if (this.pieces.length) this.line(this.pieces.join(''));
  }
}

/**
 * Calls `sink.line(line, lineNumber)` for every line of the file (1-based numbers,
 * without the line end). Returns the byte and line counts.
 */
export async function forEachLine(
  path: string,
  sink: LineSink,
  options: {
    signal?: AbortSignal;
    onBytes?: (n: number) => void;
    maxBytes?: number;
    /** Every byte of the file as stored (before gunzip), in order: hashing in the same read. */
    onRaw?: (chunk: Buffer) => void;
  } = {},
): Promise<LineStats> {
  const { head, gzip: gz } = await sniff(path, 4096);
  const encoding = encodingOf(head);
  const utf8 = encoding === 'utf-8';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_INPUT_BYTES;
  let decoder: TextDecoder | undefined;
  let bytes = 0;
  const lines = new LineSplitter(sink, path);
  const stream = openStream(path, gz, options.onRaw);
  const rawInLoop = gz ? undefined : options.onRaw;
  try {
    for await (const chunk of stream) {
      options.signal?.throwIfAborted();
      rawInLoop?.(chunk);
      bytes += chunk.length;
      if (bytes > maxBytes) tooLarge(path, maxBytes, gz);
      options.onBytes?.(chunk.length);
      // Pure ASCII (the common case for profiles) decodes as latin1, several times faster;
      // from the first other chunk on, the streaming decoder takes over for good.
      if (decoder === undefined && utf8 && isAscii(chunk)) {
        lines.emit(chunk.toString('latin1'));
        continue;
      }
      decoder ??= new TextDecoder(encoding, { ignoreBOM: false });
      lines.emit(decoder.decode(chunk, { stream: true }));
    }
  } catch (e) {
    if ((e as Error).name === 'AbortError' || (e as { code?: string }).code?.startsWith('ERR_RECALL_')) throw e;
    const err = e as NodeJS.ErrnoException;
    throw badInput('ERR_RECALL_INPUT', `${path}: cannot read (${err.code ?? err.message})`, {
      file: path,
      fix: gz ? 'the gzip stream is damaged or truncated; re-copy the file' : 'check the file',
    });
  } finally {
    stream.destroy?.();
  }
  lines.emit(decoder?.decode() ?? '');
  lines.end();
  return { bytes, lines: lines.lineNo };
}
