#!/usr/bin/env bash
# Packs xception-ts, installs the tarball into a fresh project beside
# @tensorflow/tfjs, @tensorflow/tfjs-backend-wasm and onnxruntime-node, builds a
# model through both `import` and `require`, checking its parameter count, and
# classifies through the `xception-ts/onnx` subpath. Run after `npm run build`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tarball=$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball ($(du -k "$work/$tarball" | cut -f1) KiB)"
tar -tzf "$work/$tarball" | sed 's/^/  /'

mkdir "$work/consumer" && cd "$work/consumer"
npm init -y >/dev/null
# onnxruntime-node's install script would fetch a CUDA provider; its CPU binary ships in the package.
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error \
  "$work/$tarball" @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0 onnxruntime-node@1.30.0

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
const { createOnnxClassifier, exportOnnx } = await import('xception-ts/onnx');
const classifier = await createOnnxClassifier({ model: exportOnnx(model) });
const top = await classifier.classify({ data: new Uint8Array(64 * 48 * 4).fill(128), width: 64, height: 48 }, { topK: 2 });
if (top.length !== 2 || typeof top[0].label !== 'string') throw new Error(`ESM onnx: ${JSON.stringify(top)}`);
try { await classifier.classify(top, { topK: 0 }); throw new Error('no error'); } catch (e) { if (!(e instanceof XceptionConfigError)) throw e; }
await classifier.dispose();
console.log(`import 'xception-ts/onnx': top-2 ${top.map((p) => p.label).join(' | ')}`);
JS
cat > cjs.cjs <<'JS'
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
const { createXception, XceptionConfigError } = require('xception-ts');
const { exportOnnx } = require('xception-ts/onnx');
(async () => {
  await tf.setBackend('wasm');
  const model = createXception({ preset: 'postact', numClasses: 100 });
  if (model.countParams() !== 21066380) throw new Error(`CJS: ${model.countParams()} params`);
  try { exportOnnx(model, { batchSize: 0 }); throw new Error('no error'); } catch (e) { if (!(e instanceof XceptionConfigError)) throw e; }
  console.log(`require: ${tf.getBackend()}, ${model.countParams()} params; require('xception-ts/onnx') shares the error classes`);
})().catch((e) => { console.error(e); process.exit(1); });
JS
node esm.mjs
node cjs.cjs
./node_modules/.bin/xception-ts summary --no-top --input 71,71,3 | tail -4
echo "consumer check passed"
