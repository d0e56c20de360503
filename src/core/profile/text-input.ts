/**
 * Streaming text input for the profile readers: gzip is undone on the fly,
 * the encoding comes from the BOM (UTF-8, UTF-16 LE/BE), CRLF is accepted,
 * and lines are handed to a synchronous callback a chunk at a time, so a
 * 1 GB `perf script` file never needs 1 GB of heap.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
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

function openStream(path: string, gz: boolean): Readable {
  const raw = createReadStream(path, { highWaterMark: CHUNK });
  if (!gz) return raw;
  const gunzip = createGunzip({ chunkSize: CHUNK });
  raw.on('error', (e) => gunzip.destroy(e));
  return raw.pipe(gunzip);
}

export interface LineStats {
  bytes: number;
  lines: number;
}

/**
 * Calls `onLine(line, lineNumber)` for every line of the file (1-based numbers,
 * without the line end). Returns the byte and line counts.
 */
export async function forEachLine(
  path: string,
  onLine: (line: string, lineNo: number) => void,
  options: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<LineStats> {
  const { head, gzip: gz } = await sniff(path, 4096);
  const encoding = encodingOf(head);
  const utf8 = encoding === 'utf-8';
  let decoder: TextDecoder | undefined;
  let carry = '';
  let lineNo = 0;
  let bytes = 0;
  const emit = (text: string, final: boolean) => {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(text.slice(start, end), ++lineNo);
      start = nl + 1;
    }
    carry = text.slice(start);
    if (final && carry.length) {
      onLine(carry.endsWith('\r') ? carry.slice(0, -1) : carry, ++lineNo);
      carry = '';
    }
  };
  const stream = openStream(path, gz);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      options.signal?.throwIfAborted();
      bytes += chunk.length;
      options.onBytes?.(chunk.length);
      // Pure ASCII (the common case for profiles) decodes as latin1, several times faster;
      // from the first other chunk on, the streaming decoder takes over for good.
      if (decoder === undefined && utf8 && isAscii(chunk)) {
        emit(carry + chunk.toString('latin1'), false);
        continue;
      }
      decoder ??= new TextDecoder(encoding, { ignoreBOM: false });
      emit(carry + decoder.decode(chunk, { stream: true }), false);
    }
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    const err = e as NodeJS.ErrnoException;
    throw badInput('ERR_RECALL_INPUT', `${path}: cannot read (${err.code ?? err.message})`, {
      file: path,
      fix: gz ? 'the gzip stream is damaged or truncated; re-copy the file' : 'check the file',
    });
  }
  emit(carry + (decoder?.decode() ?? ''), true);
  return { bytes, lines: lineNo };
}
