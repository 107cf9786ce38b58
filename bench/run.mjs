// npm run bench: every measurement of the benchmark, each part in a fresh process,
// one after another. Writes bench/results/latest.json and latest.md, and the docs page
// docs/guides/performance.md with its chart (docs/guides/media/benchmark.svg).
//
//   node bench/run.mjs [--quick]   (after npm run build; --quick: 3 runs each, for a smoke test)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const RUNS = values.quick ? '3' : '10';
const root = new URL('../', import.meta.url);
const started = performance.now();

/** Runs one part; returns the JSON line it prints last (when `json`). */
function part(label, command, args, { json = true } = {}) {
  const t = performance.now();
  process.stderr.write(`bench: ${label} … `);
  const child = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
  if (child.status !== 0) throw new Error(`${label} failed (${child.status}):\n${child.stderr}`);
  process.stderr.write(`${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  return json ? JSON.parse(child.stdout.trim().split('\n').at(-1)) : null;
}
const node = process.execPath;
const tsx = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
const train = (backend, size, batch, steps, warmup) =>
  part(`training step ${backend} ${size}×${size} batch ${batch}`, node, [
    'bench/parts/training-step.mjs', '--backend', backend, '--size', String(size), '--batch', String(batch), '--steps', String(steps), '--warmup', String(warmup),
  ]);

// The yardstick of every "distance to the limit": this machine's SGEMM rate, measured now.
const sgemm = part('SGEMM rate (ONNX Runtime MatMul 2048³)', tsx, ['bench/parts/sgemm-peak.ts', '--runs', RUNS]);
const inference = part('inference 299×299 (tfjs wasm, optimized, ONNX Runtime)', node, ['bench/parts/inference.mjs', '--runs', RUNS]);
const cpuPredict = part('predict on cpu vs wasm at 150×150', node, ['bench/parts/cpu-predict.mjs', '--size', '150', '--runs', RUNS]);
const trainWasm = train('wasm', 150, 8, RUNS, 1);
// tfjs' cpu backend needs minutes per step even at 48×48: one step, next to wasm at the same size.
const trainSmallCpu = train('cpu', 48, 4, 1, 0);
const trainSmallWasm = train('wasm', 48, 4, RUNS, 1);
// Training on ONNX Runtime (createOnnxTrainer), each size in a fresh process (peak RSS, no heap cap).
const onnxTrain = (size, batch, steps) =>
  part(`training step ONNX Runtime ${size}×${size} batch ${batch}`, node, [
    'bench/parts/onnx-training.mjs', '--size', String(size), '--batch', String(batch), '--steps', String(steps), '--warmup', '1',
  ]);
const trainOnnx = [onnxTrain(150, 8, RUNS), onnxTrain(299, 8, RUNS)];
// 299×299 batch 32 needs about 3.4× batch 8's peak RSS (mostly activations; 20.4 GB beside 6.0 GB
// on 2026-12-02): run it only when that much memory is free, and say so in the table otherwise
// (the kernel kills a process that runs out, as it did here with 23 GB free and a 7.5 GB batch 8).
const BIG_BATCH_BYTES = 3.6 * trainOnnx[1].peakRssBytes;
// Transfer learning (freezeBackbone: frozen weights are initializers, only the new head trains)
// beside createOnnxClassifier's inference on the same model, batch and threads.
const TRANSFER = { size: 299, batch: 16 };
const transferOnnx = part(`transfer-learning step ONNX Runtime ${TRANSFER.size}×${TRANSFER.size} batch ${TRANSFER.batch}`, node, [
  'bench/parts/onnx-training.mjs', '--size', String(TRANSFER.size), '--batch', String(TRANSFER.batch), '--steps', RUNS, '--warmup', '1', '--freeze-backbone', '--inference',
]);
const bigBatchSkipped = freemem() < BIG_BATCH_BYTES ? `skipped: needs ~${(BIG_BATCH_BYTES / 1e9).toFixed(0)} GB, ${(freemem() / 1e9).toFixed(1)} GB free` : null;
if (!bigBatchSkipped) trainOnnx.push(onnxTrain(299, 32, Math.min(Number(RUNS), 5)));
// The PyTorch peer (Debian's python3-torch, 2 threads), when it is installed.
const PYTHON = '/usr/bin/python3';
const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const pytorch = hasTorch
  ? part('training step PyTorch 150×150 and 299×299 batch 8', PYTHON, ['bench/pytorch-xception.py', '--size', '150', '--batch', '8', '--size', '299', '--batch', '8', '--steps', RUNS, '--threads', '2'])
  : null;
const pytorchTransfer = hasTorch
  ? part(`transfer-learning step PyTorch ${TRANSFER.size}×${TRANSFER.size} batch ${TRANSFER.batch}`, PYTHON, ['bench/pytorch-xception.py', '--mode', 'transfer', '--size', String(TRANSFER.size), '--batch', String(TRANSFER.batch), '--steps', RUNS, '--threads', '2'])
  : null;
if (!pytorch) process.stderr.write(`bench: PyTorch skipped: ${PYTHON} -c 'import torch' failed (Debian: apt-get install -y python3-torch)\n`);
part('HDF5 weight loading (92 MB file)', tsx, ['bench/load-weights.mjs', '--runs', RUNS, '--backend', 'wasm'], { json: false }); // writes results/load-weights.json
const weights = JSON.parse(readFileSync(new URL('bench/results/load-weights.json', root), 'utf8'));

// The limit: the model's FLOPs (2 per multiply-add) at the SGEMM rate measured above (median run).
const PEAK_FLOPS = sgemm.gflops * 1e9;
const limitMs = ((2 * inference.macs) / PEAK_FLOPS) * 1000;
/** A training step's SGEMM limit: forward, input gradient and weight gradient each cost the forward's multiply-adds. */
const trainingLimitMs = (o, passes = 3) => ((passes * 2 * o.macsPerImage * o.batch) / PEAK_FLOPS) * 1000;
const results = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  runs: Number(RUNS),
  sgemm, inference, cpuPredict, trainWasm, trainSmallCpu, trainSmallWasm, trainOnnx, pytorch, transferOnnx, pytorchTransfer,
  weights: { loadMedianMs: weights.loadMedianMs, peakRssBytes: weights.peakRssBytes, fileBytes: weights.fileBytes ?? null },
  sgemmLimitMs: limitMs,
  totalSeconds: (performance.now() - started) / 1000,
};

const ms = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' ms';
const x = (v) => `${v.toFixed(2)}×`;
const mb = (v) => `${(v / 1e6).toFixed(0)} MB`;
const b1 = inference.rows.find((r) => r.batch === 1).medianMs;
const b8 = inference.rows.find((r) => r.batch === 8)?.medianMs;
const lines = [
  '| measurement | median | ratio (same run) |',
  '| --- | ---: | --- |',
  `| \`createXception()\` (keras, 22.9 M params) | ${ms(inference.buildMs)} | |`,
  `| \`exportOnnx(model)\` | ${ms(inference.exportMs)} | ${mb(inference.onnxBytes)} file |`,
  `| SGEMM rate of this machine (ONNX Runtime MatMul ${sgemm.size}³, ${sgemm.threads} threads) | ${ms(sgemm.medianMs)} | ${sgemm.gflops.toFixed(0)} GFLOP/s (fastest run ${sgemm.bestGflops.toFixed(0)}): the limit below |`,
];
for (const [batch, m] of [[1, b1], [8, b8]]) {
  if (!m) continue;
  lines.push(
    `| 299×299 batch ${batch}: tfjs wasm \`model.predict\` | ${ms(m.tfjsWasm)} | 1.00× |`,
    `| 299×299 batch ${batch}: tfjs wasm \`optimizeForInference\` | ${ms(m.tfjsWasmOptimized)} | ${x(m.tfjsWasmOptimized / m.tfjsWasm)} of plain |`,
    `| 299×299 batch ${batch}: ONNX Runtime (\`exportOnnx\` graph, \`session.run\`) | ${ms(m.onnxRuntime)} | ${x(m.onnxRuntime / m.tfjsWasm)} of tfjs wasm; ${x(m.onnxRuntime / (limitMs * batch))} of the SGEMM limit |`,
  );
  if (m.onnxClassifier) lines.push(`| 640×480 image: \`createOnnxClassifier().classify\` (resize, preprocess, run, top-5) | ${ms(m.onnxClassifier)} | ${x(m.onnxClassifier / m.onnxRuntime)} of raw ONNX Runtime |`);
}
lines.push(
  `| SGEMM limit, 299×299 batch 1 (${(inference.macs / 1e9).toFixed(2)} G multiply-adds at ${sgemm.gflops.toFixed(0)} GFLOP/s) | ${ms(limitMs)} | |`,
  `| 150×150 batch 1: tfjs cpu \`model.predict\` | ${ms(cpuPredict.medianMs.cpu)} | ${x(cpuPredict.medianMs.cpu / cpuPredict.medianMs.wasm)} of wasm (${ms(cpuPredict.medianMs.wasm)}) |`,
  `| training step, 150×150 batch 8, wasm (\`enableWasmTraining\`, Adam) | ${ms(trainWasm.stepMedianMs)} | ${trainWasm.imagesPerSecond.toFixed(2)} images/s; wasm heap ${mb(trainWasm.heapBytes)} |`,
  ...trainingRows(),
  `| training step, 48×48 batch 4, cpu (1 step) | ${ms(trainSmallCpu.stepMedianMs)} | ${x(trainSmallCpu.stepMedianMs / trainSmallWasm.stepMedianMs)} of wasm (${ms(trainSmallWasm.stepMedianMs)}): wasm trains ${(trainSmallCpu.stepMedianMs / trainSmallWasm.stepMedianMs).toFixed(0)}× faster |`,
  `| \`loadKerasWeights\`, 92 MB HDF5 file | ${ms(weights.loadMedianMs)} | peak RSS ${mb(weights.peakRssBytes)} |`,
  `| peak RSS of the inference process (tfjs + ONNX Runtime) | ${mb(inference.maxRssBytes)} | |`,
);
const table = lines.join('\n');
const footnote = `Medians of ${RUNS} runs after a warm-up run (the cpu training step: one run; ONNX Runtime at 299×299 batch 32: ${Math.min(Number(RUNS), 5)}), ${results.machine}, ${results.date.slice(0, 10)}; ` +
  `ratios come from runs interleaved in one process (inference) or run back to back (training). The whole benchmark took ${(results.totalSeconds / 60).toFixed(1)} minutes.`;

mkdirSync(new URL('bench/results/', root), { recursive: true });
writeFileSync(new URL('bench/results/latest.json', root), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(new URL('bench/results/latest.md', root), `${table}\n\n${footnote}\n`);
mkdirSync(new URL('docs/guides/media/', root), { recursive: true });
writeFileSync(new URL('docs/guides/media/benchmark.svg', root), chart(b1, b8, limitMs));
writeFileSync(new URL('docs/guides/media/training.svg', root), trainingChart());
const page = readFileSync(new URL('bench/performance-page.md', root), 'utf8')
  .replace('<!-- table -->', table)
  .replace('<!-- footnote -->', footnote);
writeFileSync(new URL('docs/guides/performance.md', root), page);
console.log(`${table}\n\n${footnote}`);

/** The ONNX Runtime training rows, each beside tfjs wasm and PyTorch at the same size and batch. */
function trainingRows() {
  const torchRow = (size, batch) => pytorch?.rows.find((r) => r.size === size && r.batch === batch);
  return trainOnnx.map((o) => {
    const vs = [];
    if (o.size === trainWasm.size && o.batch === trainWasm.batch) vs.push(`${x(trainWasm.stepMedianMs / o.stepMedianMs)} tfjs wasm`);
    const t = torchRow(o.size, o.batch);
    if (t) vs.push(`${x(t.stepMedianMs / o.stepMedianMs)} PyTorch (${ms(t.stepMedianMs)}, ${t.imagesPerSecond.toFixed(1)} images/s)`);
    else if (!pytorch && o.batch === 8) vs.push('PyTorch not installed: skipped');
    const torchLimit = t ? `; PyTorch ${x(t.stepMedianMs / trainingLimitMs(o))}` : '';
    return `| training step, ${o.size}×${o.size} batch ${o.batch}, ONNX Runtime (\`createOnnxTrainer\`, Adam) | ${ms(o.stepMedianMs)} | ${o.imagesPerSecond.toFixed(2)} images/s; speed ${vs.join(', ') || '—'}; ${x(o.stepMedianMs / trainingLimitMs(o))} of the SGEMM limit${torchLimit}; peak RSS ${mb(o.peakRssBytes)} |`;
  }).concat(bigBatchSkipped ? [`| training step, 299×299 batch 32, ONNX Runtime | — | ${bigBatchSkipped} |`] : []).concat(transferRows());
}

/** Transfer learning: the frozen-backbone step beside inference (same model, batch, threads) and PyTorch's same job. */
function transferRows() {
  const o = transferOnnx;
  const at = `${o.size}×${o.size} batch ${o.batch}`;
  const t = pytorchTransfer?.rows[0];
  return [
    `| transfer learning, ${at}: \`createOnnxClassifier\` inference (\`run\`) | ${ms(o.inference.runMedianMs)} | ${o.inference.imagesPerSecond.toFixed(2)} images/s; ${x(o.inference.runMedianMs / trainingLimitMs(o, 1))} of the SGEMM limit |`,
    `| transfer learning, ${at}: ONNX Runtime step (\`freezeBackbone\`, Adam on a new 10-class head) | ${ms(o.stepMedianMs)} | ${o.imagesPerSecond.toFixed(2)} images/s; ${x(o.inference.stepThroughputVsInference)} of inference's throughput; ` +
      (t ? `speed ${x(t.stepMedianMs / o.stepMedianMs)} PyTorch (${ms(t.stepMedianMs)}, ${t.imagesPerSecond.toFixed(1)} images/s: backbone in eval mode under \`no_grad\`, head trained)` : 'PyTorch not installed: skipped') +
      `; peak RSS ${mb(o.peakRssBytes)} |`,
  ];
}

/** A horizontal bar chart of training throughput (images/s, linear scale) per engine. */
function trainingChart() {
  const bars = [
    ['tfjs wasm, 150×150 b8', trainWasm.imagesPerSecond],
    ...(pytorch ? pytorch.rows.map((r) => [`PyTorch, ${r.size}×${r.size} b${r.batch}`, r.imagesPerSecond]) : []),
    ...trainOnnx.map((o) => [`ONNX Runtime, ${o.size}×${o.size} b${o.batch}`, o.imagesPerSecond]),
    ...(pytorchTransfer ? pytorchTransfer.rows.map((r) => [`PyTorch, frozen backbone, ${r.size}×${r.size} b${r.batch}`, r.imagesPerSecond]) : []),
    [`ONNX Runtime, frozen backbone, ${transferOnnx.size}×${transferOnnx.size} b${transferOnnx.batch}`, transferOnnx.imagesPerSecond],
  ];
  const [left, width, rowH, top] = [300, 420, 26, 36];
  const hi = Math.max(...bars.map((b) => b[1])) * 1.15;
  const scale = (v) => (v / hi) * width;
  const h = top + bars.length * rowH + 12;
  const rows = bars.map(([label, v], i) => {
    const y = top + i * rowH;
    const fill = label.startsWith('ONNX') ? '#2a7' : label.startsWith('PyTorch') ? '#a5c' : '#e73';
    return `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${label}</text><rect x="${left}" y="${y + 4}" width="${Math.max(scale(v), 1).toFixed(1)}" height="${rowH - 8}" fill="${fill}"/><text x="${left + Math.max(scale(v), 1) + 6}" y="${y + 17}">${v.toFixed(1)} images/s</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 110}" height="${h}" font-family="sans-serif" font-size="12">` +
    `<text x="10" y="20" font-weight="bold">Xception training (Adam step), images per second (median, higher is better)</text>${rows.join('')}</svg>\n`;
}

/** A horizontal bar chart (log scale) of the 299×299 latencies. */
function chart(one, eight, limit) {
  const bars = [
    ['tfjs wasm, batch 1', one.tfjsWasm], ['optimizeForInference, batch 1', one.tfjsWasmOptimized], ['ONNX Runtime, batch 1', one.onnxRuntime],
    ['SGEMM limit, batch 1', limit],
    ...(eight ? [['tfjs wasm, batch 8', eight.tfjsWasm], ['optimizeForInference, batch 8', eight.tfjsWasmOptimized], ['ONNX Runtime, batch 8', eight.onnxRuntime]] : []),
  ];
  const [left, width, rowH, top] = [230, 420, 26, 36];
  const lo = Math.log10(10);
  const hi = Math.log10(Math.max(...bars.map((b) => b[1])) * 1.5);
  const scale = (v) => ((Math.log10(Math.max(v, 10)) - lo) / (hi - lo)) * width;
  const h = top + bars.length * rowH + 30;
  const rows = bars.map(([label, v], i) => {
    const y = top + i * rowH;
    const fill = label.startsWith('SGEMM') ? '#999' : label.startsWith('ONNX') ? '#2a7' : label.startsWith('optimize') ? '#48c' : '#e73';
    return `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${label}</text><rect x="${left}" y="${y + 4}" width="${scale(v).toFixed(1)}" height="${rowH - 8}" fill="${fill}"/><text x="${left + scale(v) + 6}" y="${y + 17}">${v.toFixed(0)} ms</text>`;
  });
  const ticks = [10, 100, 1000, 10000].filter((t) => Math.log10(t) <= hi).map((t) => `<line x1="${left + scale(t)}" x2="${left + scale(t)}" y1="${top}" y2="${h - 26}" stroke="#ddd"/><text x="${left + scale(t)}" y="${h - 10}" text-anchor="middle">${t} ms</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 90}" height="${h}" font-family="sans-serif" font-size="12">` +
    `<text x="10" y="20" font-weight="bold">Xception, 299×299, one forward pass (median, log scale)</text>${ticks.join('')}${rows.join('')}</svg>\n`;
}
