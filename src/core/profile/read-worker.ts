/** Piscina worker: parse one profile file off the main thread (run.ts reads sides in parallel). */
import type { PodProfile } from './model.js';
import { readProfile, type ReadOptions } from './read.js';

export default function readInWorker({ path, options }: { path: string; options: ReadOptions }): Promise<PodProfile> {
  return readProfile(path, options);
}
