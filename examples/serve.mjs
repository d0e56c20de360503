#!/usr/bin/env node
// A small lookup service over what `recall build` published, on the library API:
//   node examples/serve.mjs --index out [--wal out/wal] [--host 127.0.0.1] [--port 8080] [--poll-ms 200]
// GET /x2i?keys=1,2,3&top=10      ranked lists of keys
// GET /vector?v=0.1,0.2,...&k=10  nearest ids of one vector
// GET /text?q=apple+pie&k=10      BM25 top k
// GET /versions                   what is being served
// (&channel=NAME picks a channel folder when the output holds two of a kind.)
// It follows CURRENT and the WAL tail: every --poll-ms it calls reload(), which swaps in a new
// version (or newer WAL records) at once; a request in flight finishes on the version it started on,
// and every answer says which version (and WAL seq) it came from.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { openIndex } from 'recall';

const { values: o } = parseArgs({
  options: {
    index: { type: 'string' },
    wal: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    'poll-ms': { type: 'string', default: '200' },
  },
});
if (!o.index) {
  console.error('usage: node examples/serve.mjs --index OUT [--wal WAL] [--host H] [--port P] [--poll-ms MS]');
  process.exit(2);
}

const index = await openIndex(o.index, { wal: o.wal });
const reader = (kind, url) => {
  const name = url.searchParams.get('channel');
  const r = name ? index.channels[name] : index[kind];
  if (!r || r.kind !== kind) throw Object.assign(new Error(`no ${kind} channel${name ? ` named ${name}` : ''} is served`), { status: 404 });
  return r;
};
const int = (url, name, dflt) => {
  const v = Number(url.searchParams.get(name) ?? dflt);
  if (!Number.isInteger(v) || v < 0) throw Object.assign(new Error(`${name} must be a non-negative integer`), { status: 400 });
  return v;
};

const routes = {
  '/versions': async () => ({ versions: index.versions }),
  '/x2i': async (url) => {
    const keys = (url.searchParams.get('keys') ?? '').split(',').filter(Boolean);
    return reader('x2i', url).get(keys, { top: int(url, 'top', 10) });
  },
  '/vector': async (url) => {
    const v = Float32Array.from((url.searchParams.get('v') ?? '').split(',').filter(Boolean), Number);
    const r = await reader('vector', url).search(v, { k: int(url, 'k', 10) });
    return { version: r.version, walSeq: r.walSeq, ids: r.ids[0], distances: r.distances[0] };
  },
  '/text': async (url) => reader('text', url).search(url.searchParams.get('q') ?? '', { k: int(url, 'k', 10) }),
};

const json = (x) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = routes[url.pathname];
  try {
    if (!route) throw Object.assign(new Error(`no route ${url.pathname} (try /x2i, /vector, /text, /versions)`), { status: 404 });
    const body = json(await route(url));
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  } catch (e) {
    const status = e.status ?? (e.exit === 2 || e.exit === 3 ? 400 : 500);
    res.writeHead(status, { 'content-type': 'application/json' }).end(json({ error: { code: e.code, message: e.message } }));
  }
});

// follow CURRENT and the WAL tail
let polling = false;
const poll = setInterval(async () => {
  if (polling) return;
  polling = true;
  try {
    if (await index.reload()) console.log(`serving ${json(index.versions)}`);
  } catch (e) {
    console.error(`reload failed (still serving the previous version): ${e.message}`);
  } finally {
    polling = false;
  }
}, Number(o['poll-ms']));

const stop = () => {
  clearInterval(poll);
  server.close(() => index.close().then(() => process.exit(0)));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.listen(Number(o.port), o.host, () => {
  const a = server.address();
  console.log(`listening on http://${a.address}:${a.port} serving ${json(index.versions)}`);
});
