#!/usr/bin/env node
// The `deja` command. isolated-vm needs Node's --no-node-snapshot: re-exec with it when missing.
'use strict';
if (!process.execArgv.includes('--no-node-snapshot') && !/--no-node-snapshot/.test(process.env.NODE_OPTIONS || '')) {
  const { spawnSync } = require('node:child_process');
  const r = spawnSync(process.execPath, ['--no-node-snapshot', ...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status === null ? 1 : r.status);
}
require('../dist/lib/cli/main.js')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code), (error) => {
    console.error(error && error.stack ? error.stack : String(error));
    process.exit(1);
  });
