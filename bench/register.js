// Lets the bench run deja's TypeScript sources (../lib, ../runtime) and its own (src/) directly:
// a require hook that transpiles each .ts file with esbuild (deja's own dependency), type-only,
// with inline source maps. Loaded with `node -r ./bench/register.js`. Transpiling happens once per
// file at load time, before any measurement starts.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require(require.resolve('esbuild', { paths: [path.resolve(__dirname, '..')] }));

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = esbuild.transformSync(source, {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcefile: filename,
    sourcemap: 'inline',
  });
  module._compile(code, filename);
};
process.setSourceMapsEnabled?.(true);
