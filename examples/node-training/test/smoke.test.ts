// Runs the training script for real, on the CPU (ONNX Runtime, then wasm): a narrow Xception on
// generated stripes. It must learn (validation accuracy well above chance), write a checkpoint, and
// resume; and, when Debian's dataset-fashion-mnist is installed, learn a slice of Fashion-MNIST.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

const example = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'xception-training-'));
after(() => rmSync(out, { recursive: true, force: true }));

const CLASSES = 4;
// BN momentum 0.9: with Keras' 0.99 the moving statistics that validation uses need hundreds of
// steps to catch up, and validation stays at chance for a run this short (see README).
const common = ['--synthetic', '--classes', String(CLASSES), '--samples', '400', '--preset', 'narrow', '--input-size', '48', '--batch-size', '8', '--bn-momentum', '0.9', '--out', out];

function train(...args: string[]) {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'src/train.ts', ...common, ...args], { cwd: example, encoding: 'utf8', timeout: 15 * 60_000 });
  assert.equal(child.status, 0, `train.ts failed:\n${child.stderr}`);
  return { log: child.stderr, history: JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) };
}

test("the README's first command (npm run train -- --synthetic --epochs 5) learns: validation accuracy well above chance", () => {
  // As written, with only --out added so that it does not write into runs/latest. Its defaults
  // (narrow preset, 150×150, batch 16, BN momentum auto → 0.9 for its 100 steps) are what is tested.
  const run = join(out, 'first-command');
  const child = spawnSync('npm', ['run', 'train', '--', '--synthetic', '--epochs', '5', '--out', run], { cwd: example, encoding: 'utf8', timeout: 15 * 60_000 });
  assert.equal(child.status, 0, `npm run train failed:\n${child.stderr}`);
  assert.match(child.stderr, /^BatchNormalization momentum: 0\.9 \(auto, for 100 steps; --bn-momentum to set it\)\.$/m);
  const history = JSON.parse(readFileSync(join(run, 'history.json'), 'utf8'));
  const accuracy = history.history.val_acc.at(-1);
  console.log(`README's first command: validation accuracy ${accuracy.toFixed(3)} after ${history.epoch} epochs (chance 0.25), ${history.seconds.toFixed(0)} s`);
  assert.equal(history.epoch, 5, 'it stopped early');
  assert.ok(accuracy >= 0.9, `validation accuracy ${accuracy} is not well above chance (0.25)`);
});

test('learns the generated classes on ONNX Runtime (validation accuracy well above chance) and writes a checkpoint', () => {
  const { log, history } = train('--epochs', '3', '--backend', 'auto');
  // Here tfjs-node(-gpu) cannot load, so 'auto' says why in one line each and falls back to ONNX Runtime.
  assert.match(log, /^@tensorflow\/tfjs-node-gpu did not load: .+ \(it needs Linux or Windows x86-64, CUDA 11\.2 \+ cuDNN 8\.1 and Node ≤ 22/m);
  assert.match(log, /^Falling back to ONNX Runtime/m);
  assert.match(log, /^Backend: onnx \(onnxruntime-node\)/m);
  assert.equal(history.backend, 'onnx');
  assert.equal(history.epoch, 3);
  assert.equal(history.history.val_acc.length, 3);
  const accuracy = history.history.val_acc.at(-1);
  console.log(`validation accuracy after 3 epochs: ${accuracy.toFixed(3)} (chance ${(1 / CLASSES).toFixed(2)}), ${history.seconds.toFixed(0)} s`);
  assert.ok(accuracy >= 0.7, `validation accuracy ${accuracy} is not well above chance (${1 / CLASSES})`);
  for (const file of ['model.json', 'weights.bin', 'state.json']) assert.ok(existsSync(join(out, 'checkpoint', file)), file);
  assert.match(readFileSync(join(out, 'history.svg'), 'utf8'), /^<svg[^>]*>.*<polyline/s);
});

// SwiftShader, the software Vulkan GPU of Debian's chromium package: WebGPU's real shaders, slowly.
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
test('--device webgpu trains a few steps on the GPU through WebGPU (SwiftShader here) and says so', { skip: existsSync(SWIFTSHADER) ? false : `${SWIFTSHADER} is missing (apt-get install chromium libvulkan1)` }, () => {
  const run = join(out, 'webgpu');
  const args = ['--synthetic', '--classes', '2', '--samples', '24', '--preset', 'narrow', '--input-size', '32', '--batch-size', '4', '--epochs', '1', '--backend', 'onnx', '--device', 'webgpu', '--out', run];
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'src/train.ts', ...args], {
    cwd: example,
    encoding: 'utf8',
    timeout: 10 * 60_000,
    env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER, XDG_RUNTIME_DIR: process.env['XDG_RUNTIME_DIR'] ?? tmpdir() },
  });
  assert.equal(child.status, 0, `train.ts --device webgpu failed:\n${child.stderr}`);
  assert.match(child.stderr, /^ONNX Runtime device: webgpu \(only software Vulkan drivers: libvk_swiftshader\.so\); device 'webgpu' asked for\.$/m);
  const history = JSON.parse(readFileSync(join(run, 'history.json'), 'utf8'));
  assert.equal(history.epoch, 1);
  assert.ok(history.history.loss.every(Number.isFinite), `losses ${history.history.loss}`);
});

test('--resume on wasm continues from the ONNX Runtime checkpoint: the history grows, the model does not start over', () => {
  const before = JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8'));
  const { log, history } = train('--epochs', '4', '--backend', 'wasm', '--resume');
  assert.match(log, new RegExp(`^Resuming after epoch ${before.epoch} from `, 'm'));
  assert.equal(history.epoch, 4);
  assert.deepEqual(history.history.val_acc.slice(0, 3), before.history.val_acc);
  // A fresh model starts near chance; the resumed one keeps its accuracy.
  assert.ok(history.history.val_acc[3] >= 0.7, `after resuming: ${history.history.val_acc[3]}`);
});

test('bad options get a clear error', () => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'src/train.ts', '--synthetic', '--backend', 'gpu'], { cwd: example, encoding: 'utf8' });
  assert.notEqual(child.status, 0);
  assert.match(child.stderr, /--backend must be auto, tensorflow, onnx, wasm or cpu; got gpu\./);
});

test('--data reads a folder of PNG and JPEG images, one sub-folder per class', () => {
  const data = join(out, 'images');
  // Two classes: reddish and bluish images of different sizes, in both formats.
  for (const [name, rgb] of [['blue', [20, 40, 200]], ['red', [200, 30, 20]]] as const) {
    mkdirSync(join(data, name), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const [width, height] = [40 + i * 7, 50 - i * 3];
      const pixels = Buffer.alloc(width * height * 4);
      for (let p = 0; p < width * height; p++) pixels.set([...rgb.map((v) => Math.min(255, v + ((p * 31 + i * 17) % 40))), 255], p * 4);
      const file = join(data, name, `${i}.${i % 2 ? 'jpg' : 'png'}`);
      if (i % 2) writeFileSync(file, jpeg.encode({ data: pixels, width, height }, 90).data);
      else writeFileSync(file, PNG.sync.write(Object.assign(new PNG({ width, height }), { data: pixels })));
    }
  }
  writeFileSync(join(data, 'red', 'notes.txt'), 'not an image'); // skipped
  const run = join(out, 'folder-run');
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'src/train.ts', '--data', data, '--preset', 'narrow', '--input-size', '32', '--batch-size', '4', '--epochs', '1', '--backend', 'wasm', '--out', run], { cwd: example, encoding: 'utf8', timeout: 5 * 60_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stderr, /^Data: 12 images in 2 classes \(10 training, 2 validation\)\.$/m);
  const history = JSON.parse(readFileSync(join(run, 'history.json'), 'utf8'));
  assert.deepEqual(history.classNames, ['blue', 'red']);
  assert.equal(history.history.loss.length, 1);
  assert.ok(Number.isFinite(history.history.val_loss[0]));
});

const FASHION = '/usr/share/datasets/fashion-mnist';
test('--data fashion-mnist: a slice (3,000 training images, one epoch) on ONNX Runtime scores well above chance on the test set', { skip: !existsSync(join(FASHION, 't10k-labels-idx1-ubyte.gz')) && `${FASHION} is missing (apt-get install dataset-fashion-mnist)` }, () => {
  const run = join(out, 'fashion');
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'src/train.ts', '--data', `fashion-mnist:${FASHION}`, '--preset', 'narrow', '--samples', '3000', '--test-samples', '1000', '--batch-size', '32', '--epochs', '1', '--bn-momentum', '0.9', '--backend', 'onnx', '--out', run], { cwd: example, encoding: 'utf8', timeout: 10 * 60_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stderr, /^Data: Fashion-MNIST from \/usr\/share\/datasets\/fashion-mnist: 3000 training and 1000 test images, 28×28 centred on 32×32\.$/m);
  assert.match(child.stderr, /input 32×32×1\.$/m);
  const history = JSON.parse(readFileSync(join(run, 'history.json'), 'utf8'));
  const accuracy = history.history.val_acc[0];
  console.log(`Fashion-MNIST slice: test accuracy ${accuracy.toFixed(3)} after one epoch of 3,000 images (chance 0.10), ${history.seconds.toFixed(0)} s`);
  assert.ok(accuracy >= 0.5, `test accuracy ${accuracy} is not well above chance (0.1)`);
});
