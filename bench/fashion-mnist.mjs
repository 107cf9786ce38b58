// npm run bench:fashion (not in CI): trains an Xception on Fashion-MNIST (28×28 centred on 32×32,
// one channel; random flips and shifts of up to 2 pixels) on ONNX Runtime through
// examples/node-training, validating on the 10,000 test images after every epoch, and writes the
// test accuracy per epoch and the wall time to bench/results/fashion-mnist.{json,md}. Target:
// ≥ 0.94 test accuracy within 60 minutes. The default recipe: the example's 'small' Xception
// (the library's entryFlow/middleFlow/exitFlow sized for 32 px: 1.9 M parameters), batch 128,
// Adam 0.002 with cosine decay over 10 epochs. Then PyTorch (when installed) times the same
// model and batch for --torch-steps steps (bench/pytorch-xception.py --model small), scaled to one
// epoch, beside this run's own epoch time.
//
//   npm run build && npm run examples:install && npm run bench:fashion [-- --epochs 10 --max-minutes 60 --batch-size 128 --lr 0.002 --samples 60000 --preset small]
//
// Needs Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) or --data fashion-mnist:DIR,
// and the example installed (npm run examples:install).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'fashion-mnist' },
    preset: { type: 'string', default: 'small' },
    epochs: { type: 'string', default: '10' },
    'max-minutes': { type: 'string', default: '60' },
    'batch-size': { type: 'string', default: '128' },
    'torch-steps': { type: 'string', default: '40' },
    lr: { type: 'string', default: '0.002' },
    samples: { type: 'string', default: '60000' },
    'test-samples': { type: 'string', default: '10000' },
    threads: { type: 'string' },
  },
});
const root = new URL('../', import.meta.url);
const example = new URL('examples/node-training/', root);
if (!existsSync(new URL('node_modules/xception-ts/package.json', example))) {
  console.error('bench:fashion: install the example first: npm run examples:install');
  process.exit(2);
}
const out = new URL('bench/results/fashion-mnist-run/', root).pathname;
const args = [
  '--import', 'tsx', 'src/train.ts', '--data', values.data, '--backend', 'onnx', '--preset', values.preset,
  '--input-size', '32', '--batch-size', values['batch-size'], '--epochs', values.epochs, '--lr', values.lr,
  '--schedule', 'cosine', '--bn-momentum', '0.9', '--patience', '100', '--max-minutes', values['max-minutes'],
  '--samples', values.samples, '--test-samples', values['test-samples'], '--out', out,
  ...(values.threads ? ['--threads', values.threads] : []),
];
const started = performance.now();
const child = spawnSync(process.execPath, args, { cwd: example, stdio: ['ignore', 'inherit', 'inherit'] });
const seconds = (performance.now() - started) / 1000;
if (child.status !== 0) process.exit(child.status ?? 1);
const run = JSON.parse(readFileSync(`${out}history.json`, 'utf8'));
// PyTorch's time for one epoch of the same model and batch (random data of the same shape), when installed.
const PYTHON = '/usr/bin/python3';
const batchSize = Number(values['batch-size']);
const stepsPerEpoch = Math.ceil(Number(values.samples) / batchSize);
let pytorch = null;
if (values.preset === 'small' && existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) {
  const torchRun = spawnSync(PYTHON, [
    new URL('bench/pytorch-xception.py', root).pathname, '--model', 'small', '--in-channels', '1', '--size', '32', '--batch', String(batchSize),
    '--steps', values['torch-steps'], '--classes', '10', '--threads', String(values.threads ?? cpus().length),
  ], { encoding: 'utf8' });
  if (torchRun.status === 0) {
    const printed = JSON.parse(torchRun.stdout.trim().split('\n').at(-1));
    const row = printed.rows[0];
    pytorch = { version: printed.torch, threads: printed.threads, steps: row.steps, stepMedianMs: row.stepMedianMs, epochSeconds: (row.stepMedianMs * stepsPerEpoch) / 1000 };
  } else {
    pytorch = { error: torchRun.stderr.trim().split('\n').at(-1) };
  }
}
const accuracy = run.history.val_acc;
const best = Math.max(...accuracy);
const result = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  options: values,
  epochs: accuracy.length,
  testAccuracy: accuracy,
  testLoss: run.history.val_loss,
  trainLoss: run.history.loss,
  trainingSeconds: run.seconds,
  wallSeconds: seconds,
  best,
  target: { accuracy: 0.94, minutes: 60, met: best >= 0.94 && run.seconds <= 3600 },
  epochSeconds: run.seconds / accuracy.length,
  pytorch,
};
const lines = [
  `Fashion-MNIST, ${values.preset} preset at 32×32×1 on ONNX Runtime (createOnnxTrainer), batch ${values['batch-size']}, Adam ${values.lr} with cosine decay over ${values.epochs} epochs, random flips and 2-pixel shifts, ${values.samples} training and ${values['test-samples']} test images, ${result.machine}, ${result.date.slice(0, 10)}`,
  '',
  '| epoch | train loss | test loss | test accuracy |',
  '| ---: | ---: | ---: | ---: |',
  ...accuracy.map((a, i) => `| ${i + 1} | ${run.history.loss[i].toFixed(4)} | ${run.history.val_loss[i].toFixed(4)} | ${a.toFixed(4)} |`),
  '',
  `Training took ${(run.seconds / 60).toFixed(1)} minutes (the whole run ${(seconds / 60).toFixed(1)}); best test accuracy ${best.toFixed(4)}; ` +
    `target ≥ 0.94 within 60 minutes: ${result.target.met ? 'met' : 'not met'}. Authors' table: 2-conv nets 0.88–0.93, MobileNet 0.950, ResNet18 0.949, WRN40-4 0.967, humans 0.835.`,
  '',
  `One epoch: ${(result.epochSeconds / 60).toFixed(1)} minutes here (${stepsPerEpoch} steps and the validation pass); ` +
    (pytorch?.epochSeconds
      ? `PyTorch ${pytorch.version} (${pytorch.threads} threads) with the same model and batch, ${(pytorch.epochSeconds / 60).toFixed(1)} minutes for the ${stepsPerEpoch} steps (median of ${pytorch.steps} steps: ${pytorch.stepMedianMs.toFixed(0)} ms), ${(pytorch.epochSeconds / result.epochSeconds).toFixed(2)}× this run's epoch time.`
      : pytorch?.error ? `PyTorch failed: ${pytorch.error}` : 'PyTorch not timed (needs --preset small and /usr/bin/python3 with torch).'),
];
mkdirSync(new URL('bench/results/', root), { recursive: true });
writeFileSync(new URL('bench/results/fashion-mnist.json', root), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(new URL('bench/results/fashion-mnist.md', root), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
