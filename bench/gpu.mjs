// npm run bench:gpu: the training step (Keras Xception, Adam, 10 classes) and inference on every GPU
// device ONNX Runtime has here (WebGPU through Dawn, CUDA when its provider is installed), beside the
// CPU provider and, when torch sees CUDA, PyTorch on the GPU. Each part runs in a fresh process.
// Without a GPU it says so and exits 0. Writes bench/results/gpu.json and prints a table.
//
//   node bench/gpu.mjs [--size 299] [--train-batch 32] [--steps 5] [--runs 10] [--no-cpu]
//                      [--allow-software --preset mini --size 32 --train-batch 2]  (a smoke run on SwiftShader)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception } from '../dist/index.js';
import { createOnnxClassifier, exportOnnx } from '../dist/onnx.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'keras' },
    size: { type: 'string', default: '299' },
    'train-batch': { type: 'string', default: '32' },
    steps: { type: 'string', default: '5' },
    runs: { type: 'string', default: '10' },
    'no-cpu': { type: 'boolean', default: false },
    'allow-software': { type: 'boolean', default: false },
  },
});
const root = new URL('../', import.meta.url);
const log = (line) => process.stderr.write(`${line}\n`);

/** Which GPU devices start here: a tiny graph opened on each; a software adapter does not count (unless asked). */
async function gpuDevices() {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  const tiny = createXception({ preset: 'mini', inputShape: [32, 32, 3], numClasses: 2 });
  const bytes = exportOnnx(tiny);
  tiny.dispose();
  const found = [];
  for (const device of ['webgpu', 'cuda']) {
    try {
      const classifier = await createOnnxClassifier({ model: bytes, ort, device, labels: ['a', 'b'] });
      const info = classifier.device;
      await classifier.dispose();
      const software = /software/i.test(info.adapter ?? '');
      if (software && !values['allow-software']) log(`${device}: only a software adapter (${info.adapter}); not a GPU, skipped (--allow-software runs it anyway).`);
      else found.push(info);
    } catch (error) {
      log(`${device}: not available: ${error.message.split('\n')[0]}`);
    }
  }
  return found;
}

function part(label, command, args) {
  const start = performance.now();
  process.stderr.write(`bench:gpu: ${label} … `);
  const child = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
  process.stderr.write(`${((performance.now() - start) / 1000).toFixed(0)} s\n`);
  if (child.status !== 0) {
    log(`  failed (${child.status}): ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
  return JSON.parse(child.stdout.trim().split('\n').at(-1));
}

const devices = await gpuDevices();
const torchCuda = spawnSync('/usr/bin/python3', ['-c', 'import torch; assert torch.cuda.is_available(); print(torch.cuda.get_device_name(0))'], { encoding: 'utf8' });
const pytorchGpu = torchCuda.status === 0 ? torchCuda.stdout.trim() : null;
if (devices.length === 0 && !pytorchGpu) {
  log('bench:gpu: no GPU here (no hardware WebGPU adapter, no CUDA provider, torch sees no CUDA): nothing to measure.');
  process.exit(0);
}

const size = values.size;
const trainBatch = values['train-batch'];
const rows = [];
const onnxRows = (device) => {
  const training = part(`training ${device} ${size}×${size} batch ${trainBatch}`, process.execPath, [
    'bench/parts/onnx-training.mjs', '--device', device, '--preset', values.preset, '--size', size, '--batch', trainBatch, '--steps', values.steps, '--warmup', '2',
  ]);
  if (training) rows.push({ engine: 'ONNX Runtime', device, adapter: training.device.adapter ?? '', job: `train, Adam, batch ${trainBatch}`, ms: training.stepMedianMs, imagesPerSecond: training.imagesPerSecond });
  const inference = part(`inference ${device} ${size}×${size} batch 1 and ${trainBatch}`, process.execPath, [
    'bench/parts/onnx-inference-device.mjs', '--device', device, '--preset', values.preset, '--size', size, '--batch', '1', '--batch', trainBatch, '--runs', values.runs,
  ]);
  for (const row of inference?.rows ?? []) rows.push({ engine: 'ONNX Runtime', device, adapter: inference.device.adapter ?? '', job: `inference, batch ${row.batch}`, ms: row.runMedianMs, imagesPerSecond: row.imagesPerSecond });
};
for (const info of devices) onnxRows(info.device);
if (!values['no-cpu']) onnxRows('cpu');
if (pytorchGpu && values.preset === 'keras') {
  for (const [mode, batch, job] of [['train', trainBatch, `train, Adam, batch ${trainBatch}`], ['infer', '1', 'inference, batch 1'], ['infer', trainBatch, `inference, batch ${trainBatch}`]]) {
    const result = part(`PyTorch CUDA ${mode} batch ${batch}`, '/usr/bin/python3', ['bench/pytorch-xception.py', '--device', 'cuda', '--mode', mode, '--size', size, '--batch', batch, '--steps', values.steps]);
    const row = result?.rows[0];
    if (row) rows.push({ engine: `PyTorch ${result.torch}`, device: 'cuda', adapter: pytorchGpu, job, ms: row.stepMedianMs, imagesPerSecond: row.imagesPerSecond });
  }
}

const table = [
  `| engine | device | adapter | ${values.preset} ${size}×${size} | median ms | images/s |`,
  '| --- | --- | --- | --- | ---: | ---: |',
  ...rows.map((r) => `| ${r.engine} | ${r.device} | ${r.adapter} | ${r.job} | ${r.ms.toFixed(1)} | ${r.imagesPerSecond.toFixed(1)} |`),
].join('\n');
console.log(table);
mkdirSync(new URL('bench/results/', root), { recursive: true });
writeFileSync(new URL('bench/results/gpu.json', root), `${JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, devices, pytorchGpu, rows }, null, 2)}\n`);
