#!/usr/bin/env bash
# Packs xception-ts, installs the tarball into a fresh project beside
# @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm, and builds a model through
# both `import` and `require`, checking its parameter count. Run after `npm run build`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tarball=$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball ($(du -k "$work/$tarball" | cut -f1) KiB)"
tar -tzf "$work/$tarball" | sed 's/^/  /'

mkdir "$work/consumer" && cd "$work/consumer"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error \
  "$work/$tarball" @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0

cat > esm.mjs <<'JS'
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createXception, XCEPTION_PRESETS, XceptionConfigError } from 'xception-ts';
await tf.setBackend('wasm');
const model = createXception();
if (model.countParams() !== 22910480) throw new Error(`ESM: ${model.countParams()} params`);
const y = model.predict(tf.zeros([1, 299, 299, 3]));
if (y.shape.join() !== '1,1000') throw new Error(`ESM: output ${y.shape}`);
try { createXception({ numClasses: 0 }); throw new Error('no error'); } catch (e) { if (!(e instanceof XceptionConfigError)) throw e; }
console.log(`import: ${tf.getBackend()}, ${model.countParams()} params, presets ${Object.keys(XCEPTION_PRESETS)}, output ${y.shape}`);
JS
cat > cjs.cjs <<'JS'
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
const { createXception } = require('xception-ts');
(async () => {
  await tf.setBackend('wasm');
  const model = createXception({ preset: 'postact', numClasses: 100 });
  if (model.countParams() !== 21066380) throw new Error(`CJS: ${model.countParams()} params`);
  console.log(`require: ${tf.getBackend()}, ${model.countParams()} params`);
})().catch((e) => { console.error(e); process.exit(1); });
JS
node esm.mjs
node cjs.cjs
./node_modules/.bin/xception-ts summary --no-top --input 71,71,3 | tail -4
echo "consumer check passed"
