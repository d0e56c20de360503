#!/usr/bin/env node
// Signal handlers first: a Ctrl-C or SIGTERM while oclif loads still exits 130 / 143.
import { installSignalHandlers } from '../dist/cli/signals.js';

installSignalHandlers();
const { execute } = await import('@oclif/core/execute');
await execute({ dir: import.meta.url });
