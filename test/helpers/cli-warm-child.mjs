// The long-lived child behind `recallWarm` (cli.mjs): runs `recall` command lines sent over IPC,
// one at a time, the way bin/run.js runs one (signal handlers first, oclif's run, then oclif's
// error handler), each with its own captured stdout, stderr, exit code and environment
// additions. Start-up is paid once per test file instead of once per command.
const { adoptSignalHandlers } = await import('../../dist/cli/signals.js');
adoptSignalHandlers();
const { run } = await import('@oclif/core');
const { Exit, handle } = await import('@oclif/core/handle');
const root = new URL('../..', import.meta.url).pathname;

// oclif's error handler ends with Exit.exit(code): record the code (handle returns right after)
let handledExit;
Exit.exit = (code = 0) => {
  handledExit ??= code;
};
class Exited {
  constructor(code) {
    this.code = code;
  }
}
const exitNow = process.exit.bind(process);
process.on('disconnect', () => exitNow(0)); // the test file is done
process.exit = (code) => {
  throw new Exited(code ?? process.exitCode ?? 0);
};

async function runOne(args, env) {
  const out = { stdout: '', stderr: '' };
  const writes = {};
  for (const name of ['stdout', 'stderr']) {
    const stream = process[name];
    writes[name] = stream.write;
    stream.write = (chunk, encoding, cb) => {
      out[name] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      (typeof encoding === 'function' ? encoding : cb)?.();
      return true;
    };
  }
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  process.exitCode = undefined;
  handledExit = undefined;
  let code;
  try {
    // A fresh oclif config per command, as in a new process: oclif's reload of an existing config
    // shares its plugins, and a help run left them unable to find `query inverted`. No oclif
    // flush(): captured writes complete at once, and each flush would leave a drain listener.
    await run(args, root);
  } catch (error) {
    if (error instanceof Exited) code = error.code;
    else {
      await handle(error);
      code = handledExit;
    }
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const result = { code: code ?? process.exitCode ?? 0, signal: null, ...out };
  process.exitCode = undefined;
  return result;
}

let queue = Promise.resolve();
process.on('message', ({ id, args, env }) => {
  // a failure of this runner (not of the command) fails that call, and the next ones still run
  queue = queue
    .then(() => runOne(args, env ?? {}))
    .then(
      (r) => process.send({ id, ...r }),
      (e) => process.send({ id, failed: String(e?.stack ?? e) }),
    );
});
process.send({ ready: true });
