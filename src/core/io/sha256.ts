import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The sha256 of a file (hex), read in 1 MiB chunks. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}
