/** Piscina worker: parse one profile file off the main thread (run.ts reads sides in parallel). */
import { toWire, type WireError } from '../errors.js';
import type { PodProfile } from './model.js';
import { readProfile, type ReadOptions } from './read.js';

/** The profile, or its error as data (a thrown error would reach the caller as a bare Error: exit 1). */
export default async function readInWorker({ path, options }: { path: string; options: ReadOptions }): Promise<PodProfile | WireError> {
  try {
    return await readProfile(path, options);
  } catch (e) {
    return toWire(e);
  }
}
