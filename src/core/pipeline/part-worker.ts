/**
 * Piscina worker of `recall build --config`: build one part (one shard of
 * one channel) into a target folder. The native addon loads per worker.
 */
import { writeInvertedParts, type BuildInvertedOptions } from '../channels/text/build.js';
import { writeVectorPart, type BuildVectorOptions } from '../channels/vector/build.js';
import { writeX2iParts, type BuildX2iOptions } from '../channels/x2i/build.js';

export type PartTask =
  | { kind: 'x2i'; options: BuildX2iOptions; target: { dir: string; version: number } }
  | { kind: 'inverted'; options: BuildInvertedOptions; target: { dir: string; version: number } }
  | { kind: 'vector'; options: BuildVectorOptions; target: { dir: string; version: number } };

export interface PartResult {
  files: { file: string; bytes: number; keys: number; items: number }[];
  params: Record<string, unknown>;
  cpuSeconds: number;
}

export default async function buildPart(t: PartTask): Promise<PartResult> {
  const c0 = process.cpuUsage();
  const cpu = () => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1e6;
  };
  if (t.kind === 'x2i') {
    const r = await writeX2iParts(t.options, t.target);
    return { files: r.shards.map((s) => ({ file: s.file, bytes: s.fileBytes, keys: s.keys, items: s.edges })), params: r.params, cpuSeconds: cpu() };
  }
  if (t.kind === 'inverted') {
    const r = await writeInvertedParts(t.options, t.target);
    return { files: r.result.files.map((f) => ({ file: f.file, bytes: f.fileBytes, keys: f.docs, items: f.postings })), params: r.params, cpuSeconds: cpu() };
  }
  const r = await writeVectorPart(t.options, t.target);
  return { files: [{ file: r.result.file, bytes: r.result.fileBytes, keys: r.result.n, items: r.result.n * r.result.dim }], params: r.params, cpuSeconds: cpu() };
}
