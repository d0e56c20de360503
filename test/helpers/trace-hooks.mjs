import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.RECALL_TRACE_FILE, `esm ${result.url}\n`);
  return result;
}
