// npm run bench:weights: time reading a full-size (~88 MB) Keras weight file into
// Xception in Node, as the median of repeated runs, and the peak RSS of the
// process that does it. The fixture (official Keras 1.1 layout, random weights)
// is generated here with h5wasm, never committed.
//
//   npx tsx bench/load-weights.mjs [--runs 7] [--backend cpu|wasm]   (after npm run build)
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, backend: { type: 'string', default: 'cpu' }, child: { type: 'string' } } });

if (values.child) {
  // The measured process: build, then load the file `runs` times.
  const tf = await import('@tensorflow/tfjs');
  if (values.backend === 'wasm') await (await import('../scripts/wasm-backend.mjs')).useWasmBackend();
  else { tf.env().set('PROD', true); await tf.setBackend('cpu'); }
  const { createXception, loadKerasWeights } = await import('../dist/index.js');
  const model = createXception();
  const times = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const start = performance.now();
    await loadKerasWeights(model, values.child); // reads the file from disk each time
    times.push(performance.now() - start);
  }
  process.stdout.write(JSON.stringify({ times, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
  process.exit(0);
}

const { median } = await import('../scripts/image.mjs');
const dir = join(tmpdir(), `xception-ts-bench-${process.pid}`);
mkdirSync(dir, { recursive: true });
const file = join(dir, 'xception_weights_tf_dim_ordering_tf_kernels.h5');
{
  const tf = await import('@tensorflow/tfjs');
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  const { createXception } = await import('../dist/index.js');
  // The test suite's fixture writer (TypeScript; this script runs under tsx).
  const { writeKerasWeights } = await import('../test/helpers/keras-fixtures.ts');
  const model = createXception({ inputShape: [71, 71, 3] });
  writeFileSync(file, await writeKerasWeights(model, 'keras1'));
  model.dispose();
}
const size = statSync(file).size;

// A baseline process that only builds the model, to separate the loader's memory from tfjs' own.
const run = (args) => {
  const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout);
};
const result = run(['--child', file, '--runs', values.runs, '--backend', values.backend]);
const baseline = run(['--child', file, '--runs', '0', '--backend', values.backend]);
rmSync(dir, { recursive: true, force: true });

const summary = {
  date: new Date().toISOString(),
  node: process.version,
  backend: values.backend,
  fileBytes: size,
  runs: result.times.length,
  loadMedianMs: median(result.times),
  loadMinMs: Math.min(...result.times),
  peakRssBytes: result.maxRssBytes,
  peakRssOverFileSize: result.maxRssBytes / size,
  baselineRssBytes: baseline.maxRssBytes,
  loaderRssOverFileSize: (result.maxRssBytes - baseline.maxRssBytes) / size,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/load-weights.json', import.meta.url), `${JSON.stringify(summary, null, 2)}\n`);
const mb = (b) => (b / 1e6).toFixed(0);
console.log(`| file | backend | load median (min), ${summary.runs} runs | peak RSS | ÷ file size | RSS of the build alone | (peak − build) ÷ file size |`);
console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
console.log(`| ${mb(size)} MB | ${values.backend} | ${summary.loadMedianMs.toFixed(0)} ms (${summary.loadMinMs.toFixed(0)} ms) | ${mb(summary.peakRssBytes)} MB | ${summary.peakRssOverFileSize.toFixed(2)} | ${mb(baseline.maxRssBytes)} MB | ${summary.loaderRssOverFileSize.toFixed(2)} |`);
