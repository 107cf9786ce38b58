import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createXception, imageDatasetFromDirectory, loadKerasModel, saveKerasWeights } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { pngBytes, patternPixel, writePatternFolder } from '../helpers/image-folder.js';
import { run } from '../helpers/run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'xception-train-'));
const data = join(root, 'patterns');
const out = join(root, 'runs', 'first');
const CLASSES = ['checks', 'disc', 'stripes'];
const TRAIN = ['--preset', 'tiny', '--input-size', '32', '--batch-size', '8'];
beforeAll(async () => {
  await useBackend('cpu');
  writePatternFolder(data, { classes: 3, perClass: 40, size: 32 });
  mkdirSync(join(root, 'runs'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The table's rows after its header and rule, as cells. */
function tableRows(text: string): string[][] {
  const lines = text.split('\n').filter((l) => l.startsWith('|'));
  expect(lines[0]).toMatch(/^\| *Params \| *Loss \| Val_Loss \| *ACC \| Val_ACC \| epochs \| minutes \| device \|$/);
  return lines.slice(2).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

describe('xception-ts train', () => {
  it('learns a generated folder of images (validation accuracy well above chance), prints the table and writes its files only in --out', async () => {
    const started = performance.now();
    const { code, out: stdout, err } = await run('train', data, ...TRAIN, '--epochs', '8', '--out', out);
    const seconds = (performance.now() - started) / 1000;
    expect(code, err).toBe(0);
    expect(err).toMatch(/^Data: 120 images in 3 classes \(96 training, 24 validation\) from .*patterns\.$/m);
    expect(err).toMatch(/^Model: tiny at 32×32×3, 16,096 parameters \(15,356 trainable\), BatchNormalization momentum 0\.9\.$/m);
    expect(err).toMatch(/^Device: cpu: auto: .+$/m); // no GPU here: what 'auto' found and why it chose the CPU
    expect(err.match(/^Epoch \d+\/8: loss \d\.\d{4} acc \d\.\d{4} val_loss \d\.\d{4} val_acc \d\.\d{4} \(\d+\.\d s, \d+ images\/s\)$/gm)).toHaveLength(8);
    const [row] = tableRows(stdout);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as Record<string, number[]>;
    expect(Object.keys(history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    expect(history['val_accuracy']).toHaveLength(8);
    const accuracy = history['val_accuracy']!.at(-1)!;
    console.log(`train: validation accuracy ${accuracy.toFixed(3)} after 8 epochs (chance 0.333), ${seconds.toFixed(1)} s`);
    expect(accuracy).toBeGreaterThanOrEqual(0.8);
    expect(row).toEqual(['16,096', history['loss']!.at(-1)!.toFixed(4), history['val_loss']!.at(-1)!.toFixed(4), history['accuracy']!.at(-1)!.toFixed(4), accuracy.toFixed(4), '8', expect.stringMatching(/^\d+\.\d$/), 'cpu']);
    expect(readdirSync(out).sort()).toEqual(['checkpoint', 'classes.json', 'history.json', 'history.svg', 'model.keras', 'model.onnx', 'runs.json']);
    expect(readdirSync(join(out, 'checkpoint')).sort()).toEqual(['model.keras', 'state.json']);
    expect(readdirSync(join(root, 'runs'))).toEqual(['first']); // nothing beside --out
    expect(existsSync('runs')).toBe(false); // nor in the working directory
    expect(JSON.parse(readFileSync(join(out, 'classes.json'), 'utf8'))).toEqual(CLASSES);
    expect(readFileSync(join(out, 'history.svg'), 'utf8')).toMatch(/^<svg[^>]*>.*<polyline.*val_accuracy/s);
    const runs = JSON.parse(readFileSync(join(out, 'runs.json'), 'utf8')) as { epochs: number; val_accuracy: number }[];
    expect(runs.map((r) => [r.epochs, r.val_accuracy])).toEqual([[8, accuracy]]);
  });

  it('writes a .keras model that loadKerasModel loads and that classifies held-out images, and an ONNX model that computes the same', async () => {
    const model = await loadKerasModel(join(out, 'model.keras'));
    const { validation } = await imageDatasetFromDirectory(data, { imageSize: 32, validationSplit: 0.2, seed: 1, batchSize: 24 });
    const { xs, ys } = await validation!.toTensors();
    const probabilities = model.predict(xs) as tf.Tensor;
    const predicted = Array.from(probabilities.argMax(-1).dataSync());
    const truth = Array.from(ys.argMax(-1).dataSync());
    const right = predicted.filter((p, i) => p === truth[i]).length / truth.length;
    expect(right).toBeGreaterThanOrEqual(0.8);
    const session = await ort.InferenceSession.create(readFileSync(join(out, 'model.onnx')));
    const result = await session.run({ input: new ort.Tensor('float32', xs.dataSync() as Float32Array, xs.shape) });
    const onnx = result['output']!.data as Float32Array;
    Array.from(probabilities.dataSync()).forEach((p, i) => expect(onnx[i]).toBeCloseTo(p, 4));
    await session.release();
    tf.dispose([xs, ys, probabilities]);
    model.dispose();
  });

  it('classify --model <out> names the classes of new images with the trained model', async () => {
    const images = CLASSES.map((_, label) => {
      const path = join(root, `new-${label}.png`);
      writeFileSync(path, pngBytes(32, 32, 3, patternPixel(label, 1000 + label, 32)));
      return path;
    });
    const { code, out: stdout, err } = await run('classify', '--model', out, '--top', '1', ...images);
    expect(code, err).toBe(0);
    const top = stdout.split('\n').filter((l) => l.startsWith('  1. ')).map((l) => l.replace(/^ {2}1\. \d\.\d{4} {2}/, ''));
    // Patterns 0, 1, 2 are stripes, a disc and checks (writePatternFolder's folders; class ids in sorted order).
    expect(top).toEqual(['stripes (2)', 'disc (1)', 'checks (0)']);
    const mixed = await run('classify', '--model', out, '--preset', 'keras', images[0]!);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toContain('--model brings its own model; drop --preset.');
  });

  it('--resume continues the run from its checkpoint; --overwrite adds a run; an existing --out is refused otherwise', async () => {
    const before = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as Record<string, number[]>;
    const refused = await run('train', data, ...TRAIN, '--epochs', '2', '--out', out);
    expect(refused.code).toBe(2);
    expect(refused.err).toBe(
      `xception-ts: --out ${out} exists and is not empty; pass --resume to continue its run, --overwrite to start a new run there (runs.json keeps the old rows), or another --out.\nTry 'xception-ts help train'.`,
    );
    const resumed = await run('train', data, '--epochs', '10', '--out', out, '--resume');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(/^Resuming after epoch 8 from /m);
    expect(resumed.err).toMatch(/^Epoch 9\/10: .*\nEpoch 10\/10: /m);
    const after = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as Record<string, number[]>;
    expect(after['loss']!.slice(0, 8)).toEqual(before['loss']);
    expect(after['val_accuracy']![9]).toBeGreaterThanOrEqual(0.8); // not a fresh model (those start at chance)
    expect(tableRows(resumed.out).map((r) => r[5])).toEqual(['10']); // the same run's row, not a new one
    const conflicting = await run('train', data, '--preset', 'mini', '--out', out, '--resume');
    expect(conflicting.code).toBe(2);
    expect(conflicting.err).toContain(`--resume continues the run in ${out}, trained with --preset tiny; drop --preset mini (or start a new run).`);
    const second = await run('train', data, ...TRAIN, '--epochs', '1', '--out', out, '--overwrite');
    expect(second.code, second.err).toBe(0);
    expect(tableRows(second.out).map((r) => r[5])).toEqual(['10', '1']);
  });

  it('--weights FILE --freeze-backbone trains the head only, then --fine-tune-epochs the rest but BatchNormalization', async () => {
    const backbone = createXception({ preset: 'tiny', includeTop: false, inputShape: [32, 32, 3] });
    const weights = join(root, 'tiny-no-top.weights.h5');
    writeFileSync(weights, await saveKerasWeights(backbone, { format: 'keras3' }));
    backbone.dispose();
    const target = join(root, 'transfer');
    const result = await run('train', data, ...TRAIN, '--weights', weights, '--freeze-backbone', '--epochs', '1', '--fine-tune-epochs', '1', '--out', target);
    expect(result.code, result.err).toBe(0);
    // The head: global average pooling of 64 channels into 3 classes, 64 × 3 + 3 = 195 parameters.
    expect(result.err).toMatch(/^Model: tiny at 32×32×3, 14,560 parameters \(195 trainable\), BatchNormalization momentum 0\.9\.$/m);
    expect(result.err).toMatch(/^Epoch 1\/1: .*\nFine-tuning: 13,080 trainable parameters, Adam at 0\.00001, up to epoch 2\.\nEpoch 2\/2: /m);
    expect(JSON.parse(readFileSync(join(target, 'history.json'), 'utf8'))['loss']).toHaveLength(2);
  });

  it('refuses bad input with one line, the exit code of the other commands, and nothing written', async () => {
    const folder = (name: string, files: Record<string, Uint8Array | string>) => {
      const dir = join(root, name);
      for (const [path, bytes] of Object.entries(files)) {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), bytes);
      }
      mkdirSync(dir, { recursive: true });
      return dir;
    };
    const image = (label: number, seed: number) => pngBytes(32, 32, 3, patternPixel(label, seed, 32));
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 30; i++) many[`${i % 2 ? 'a' : 'b'}/${i}.png`] = pngBytes(1, 1, 1, () => i);
    const cases: [string[], number, RegExp][] = [
      [[join(root, 'missing')], 1, /^xception-ts: cannot read the image folder .*missing: ENOENT/],
      [[folder('empty', {})], 1, /^xception-ts: .*empty holds no class sub-folders; expected one sub-folder per class/],
      [[folder('one', { 'cats/1.png': image(0, 1) })], 1, /holds one class sub-folder \('cats'\); a classifier needs at least 2 classes/],
      [[folder('hollow', { 'cats/1.png': image(0, 1), 'dogs/readme.txt': 'x' })], 1, /the class folder 'dogs' holds no \.png, \.jpg, \.jpeg file/],
      [[folder('corrupt', { 'cats/1.png': image(0, 1), 'dogs/1.png': image(1, 1), 'dogs/2.png': 'garbage' })], 1, /dogs\/2\.png: .*Pass --skip-bad-files to leave such files out and list them\.$/],
      [[folder('many', many), '--max-files', '20'], 1, /many holds more than 20 image files \(--max-files\); raise --max-files if the folder is genuine\./],
      [[data, '--classes', '4'], 2, /^xception-ts: --classes 4 does not match .*patterns: it holds 3 classes \(checks, disc, stripes\)\.\nTry 'xception-ts help train'\.$/],
      [[data, '--device', 'tpu'], 2, /--device must be one of auto, cpu, webgpu, cuda; got "tpu"\./],
      [[data, '--lr', 'fast'], 2, /--lr must be a number above 0 up to 10; got "fast"\./],
      [[data, '--freeze-backbone'], 2, /--freeze-backbone needs --weights/],
      [['idx:'], 2, /train idx:DIR needs the folder after idx:/],
      [[`idx:${join(root, 'missing')}`], 1, /cannot read the IDX folder/],
      [[data, '--top', '3'], 2, /train does not take --top\./],
      [[data, '--device', 'cuda'], 1, /^xception-ts: --device cuda: createOnnxTrainer: device 'cuda' is not available: .*; found: cpu/m],
      [[data, '--max-images', '10'], 2, /--max-images applies to idx: data only\./],
      [['idx:/x', '--validation-split', '0.1'], 2, /--validation-split applies to a folder of images, not to idx: data \(its test files validate\)\./],
    ];
    for (const [args, code, message] of cases) {
      const target = join(root, `never-${code}-${args.length}`);
      const result = await run('train', ...args, ...TRAIN, '--epochs', '1', '--out', target);
      expect(result.code, args.join(' ')).toBe(code);
      expect(result.err, args.join(' ')).toMatch(message);
      // One line: the error (after the Data/Model lines when the bad file turns up during training), and a hint for usage errors.
      expect(result.err.split('\n').filter((l) => l.startsWith('xception-ts:')), result.err).toHaveLength(1);
      expect(result.err.split('\n').at(-1)!.startsWith(code === 2 ? "Try 'xception-ts help train'." : 'xception-ts: '), result.err).toBe(true);
      expect(existsSync(target), args.join(' ')).toBe(false);
    }
  });

  it('skips and lists unreadable images with --skip-bad-files, and converts a folder of mixed channel counts', async () => {
    const dir = join(root, 'mixed');
    const channels = [1, 3, 4] as const;
    for (const [label, name] of CLASSES.entries()) {
      mkdirSync(join(dir, name), { recursive: true });
      for (let i = 0; i < 6; i++) writeFileSync(join(dir, name, `${i}.png`), pngBytes(32, 32, channels[i % 3]!, patternPixel(label, i + 1, 32)));
    }
    writeFileSync(join(dir, 'disc', 'broken.png'), pngBytes(32, 32, 3, () => 1).subarray(0, 60));
    const target = join(root, 'mixed-run');
    const result = await run('train', dir, ...TRAIN, '--epochs', '1', '--skip-bad-files', '--out', target);
    expect(result.code, result.err).toBe(0);
    expect(result.err).toMatch(/^Skipped .*disc\/broken\.png: .*broken\.png: /m);
    expect(tableRows(result.out)).toHaveLength(1);
  });

  it('Ctrl-C stops after the current batch, leaves a checkpoint and exits 130; --resume finishes the run', async () => {
    const target = join(root, 'interrupted');
    const cli = ['--import', 'tsx', 'cli/main.ts', 'train', data, ...TRAIN, '--batch-size', '2', '--epochs', '3', '--out', target];
    const child = spawn(process.execPath, cli, { cwd: join(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/^Epoch 1\/3: /m.test(stderr) && !child.killed) {
          child.kill('SIGINT');
          resolve();
        }
      }),
    );
    expect(await exited, stderr).toBe(130);
    expect(stderr).toMatch(/Stopping after this batch and writing a checkpoint/);
    expect(stderr).toMatch(/Interrupted: the checkpoint holds the weights after 1 complete epochs and the batches since; continue with --resume\./);
    const state = JSON.parse(readFileSync(join(target, 'checkpoint', 'state.json'), 'utf8')) as { epoch: number; history: Record<string, number[]> };
    expect(state.epoch).toBe(1);
    expect(state.history['loss']).toHaveLength(1);
    expect(statSync(join(target, 'checkpoint', 'model.keras')).size).toBeGreaterThan(10_000);
    const resumed = await run('train', data, '--out', target, '--resume');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(/^Epoch 2\/3: .*\nEpoch 3\/3: /m);
    expect(JSON.parse(readFileSync(join(target, 'history.json'), 'utf8'))['loss']).toHaveLength(3);
  });
});
