/**
 * Argument and flag types shared by commands. A path that does not exist is
 * a usage error (exit 2) naming the path, not a crash.
 */
import { Args } from '@oclif/core';
import { existsSync } from 'node:fs';
import { usage } from '../core/errors.js';
import { requirePath } from '../core/io/paths.js';

export const existingPath = Args.custom<string>({
  parse: async (input) => {
    if (!existsSync(input))
      throw usage('ERR_RECALL_NO_SUCH_PATH', `${input}: no such file or directory`, { file: input, fix: 'check the path' });
    return input;
  },
});

/** An existing file (a folder is exit 2 naming it, not EISDIR). */
export const existingFile = Args.custom<string>({
  parse: async (input) => requirePath(input, 'file'),
});
