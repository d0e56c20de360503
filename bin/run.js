#!/usr/bin/env node
// Signal listeners first, before anything loads: until signals.js takes them over, a Ctrl-C or
// SIGTERM exits 130 / 143 at once (nothing has been written yet).
let handle = (sig) => process.exit(sig === 'SIGTERM' ? 143 : 130);
process.on('SIGINT', () => handle('SIGINT')).on('SIGTERM', () => handle('SIGTERM'));
const { adoptSignalHandlers } = await import('../dist/cli/signals.js');
handle = adoptSignalHandlers();
// @oclif/core checks Node's version against its own engines range (looser than recall's) with
// semver, 47 modules loaded on every start; recall's engines field already says what it needs.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
const { execute } = await import('@oclif/core/execute');
await execute({ dir: import.meta.url });
