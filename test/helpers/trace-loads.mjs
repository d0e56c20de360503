// Preload (`node --import`) that records every module and addon a process
// loads into $RECALL_TRACE_FILE: ESM through a resolve hook (which runs on
// the loader thread, hence a file), CommonJS and .node through Module._load
// and process.dlopen.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const file = process.env.RECALL_TRACE_FILE;
const log = (what) => appendFileSync(file, `${what}\n`);
register('./trace-hooks.mjs', import.meta.url);
const load = Module._load;
Module._load = function (request, ...rest) {
  log(`cjs ${request}`);
  return load.call(this, request, ...rest);
};
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  log(`dlopen ${filename}`);
  return dlopen.call(this, module, filename, ...rest);
};
