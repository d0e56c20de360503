/** The first line of a (possibly multi-line) message. */
export const firstLine = (s: string): string => s.split('\n', 1)[0] ?? '';

/** The largest finite f32: a number beyond it would be stored as infinity. */
export const F32_MAX = 3.4028234663852886e38;

/** A finite number that survives the cast to f32. */
export const isF32 = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && Math.abs(x) <= F32_MAX;

/**
 * UTF-8 bytes as text, refusing invalid sequences (a lenient decode would turn them into U+FFFD
 * silently); returns the 1-based line and byte offset of the first bad byte instead.
 */
export function decodeUtf8Strict(bytes: Uint8Array): { text: string } | { line: number; offset: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    // Find the first bad byte: the longest prefix that decodes, by halving.
    let lo = 0;
    let hi = bytes.length;
    const ok = (n: number) => {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n));
        return true;
      } catch {
        return false;
      }
    };
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ok(mid)) lo = mid;
      else hi = mid - 1;
    }
    // A prefix can end inside a valid sequence: step back to a character start.
    let offset = lo;
    while (offset > 0 && (bytes[offset]! & 0xc0) === 0x80) offset--;
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 10) line++;
    return { line, offset };
  }
}
