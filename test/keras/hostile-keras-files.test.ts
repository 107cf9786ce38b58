// Hostile Keras model files (issue 21, rows 1, 2, 4, 5, 9): broken graphs,
// decompression bombs in HDF5 chunks and archives, huge layers, deep configs.
// Fixtures are a few kB, generated here.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  inspectKerasFile,
  KERAS_FILE_LIMITS,
  loadKerasModel,
  loadKerasWeights,
  XceptionConfigError,
  XceptionModelFileError,
  XceptionWeightsError,
} from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import {
  configLayers,
  configText,
  deepArrayJson,
  deepSequentialJson,
  firstHistory,
  kerasArchive,
  plantChunkBomb,
  setDeclaredSize,
  tinyConfig,
  tinyDenseModel,
  writeGzipWeights,
} from '../helpers/hostile-keras-fixtures.js';
import { keras1Reference, writeKeras1ModelFile } from '../helpers/keras1-model-fixture.js';

beforeAll(() => useBackend('cpu'));

/** Expects `call` to reject with `type` and a message matching `message`, leaving no tensor behind. */
async function expectRefused(call: () => Promise<unknown>, type: typeof XceptionWeightsError, message: RegExp): Promise<void> {
  const before = tf.memory().numTensors;
  const error = await call().then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  expect(tf.memory().numTensors).toBe(before);
}

const fixtureDir = mkdtempSync(join(tmpdir(), 'hostile-keras-'));
const fixtureFile = (name: string, bytes: Uint8Array): string => {
  const path = join(fixtureDir, name);
  writeFileSync(path, bytes);
  return path;
};

/**
 * Loads (or inspects) files in a child process: before the fix each of these spun for ever in
 * TensorFlow.js' node queue, so a time limit kills the child and the hang fails the test instead
 * of hanging the suite.
 */
async function loadInChild(entry: 'load' | 'inspect', files: string[]): Promise<Record<string, unknown>[]> {
  const child = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/helpers/load-keras-in-child.ts', entry, ...files], {
    timeout: 60_000,
    killSignal: 'SIGKILL',
  }).catch((error: { killed?: boolean }) => ({ stdout: '', killed: error.killed }));
  expect(child, 'the child process was killed after 60 s: the loader hangs').not.toHaveProperty('killed', true);
  return child.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('row 1: a graph that references missing layers or nodes, or loops, is refused (it used to hang)', () => {
  it('missing layer, cycle, node index 99 (.keras) and a flipped byte in a layer name (full-model .h5)', async () => {
    const model = tinyDenseModel();
    const weights = await writeGzipWeights(model);
    const variants: Record<string, (layers: Record<string, unknown>[]) => void> = {
      missing: (layers) => (firstHistory(layers[2]!)[0] = 'hiddex'),
      cycle: (layers) => (firstHistory(layers[1]!)[0] = 'out'),
      node99: (layers) => (firstHistory(layers[2]!)[1] = 99),
    };
    const files = Object.entries(variants).map(([name, mutate]) => {
      const config = tinyConfig(model);
      mutate(configLayers(config));
      return fixtureFile(`${name}.keras`, kerasArchive(config, weights));
    });
    model.dispose();
    // One byte of a Keras 1 full-model file: flatten_1's input 'merge_1' becomes 'mergf_1'.
    const reference = keras1Reference();
    const h5 = Buffer.from(await writeKeras1ModelFile(reference));
    reference.dispose();
    const at = h5.indexOf('"merge_1",0,0');
    expect(at).toBeGreaterThan(0);
    h5[at + 5] = 'f'.charCodeAt(0);
    files.push(fixtureFile('flipped.h5', h5));

    const results = await loadInChild('load', files);
    expect(results.map((r) => [r.outcome, r.name, r.leaked])).toEqual(Array(4).fill(['threw', 'XceptionModelFileError', 0]));
    expect(results[0]!.message).toMatch(/model 'tiny': layer 'out' takes its input from 'hiddex', which is not a layer of this model \(its layers: 'x', 'hidden', 'out'\)/);
    expect(results[1]!.message).toMatch(/model 'tiny': layers 'hidden', 'out' take their inputs from each other \(a cycle\)/);
    expect(results[2]!.message).toMatch(/model 'tiny': layer 'out' takes node 99 of layer 'hidden', which has only 1 node \(0 to 0\)/);
    expect(results[3]!.message).toMatch(/model 'model_1': layer 'flatten_1' takes its input from 'mergf_1', which is not a layer of this model/);
  }, 90_000);

  it('inspect lists the layers of such a file and says why it cannot be built', async () => {
    const model = tinyDenseModel();
    const config = tinyConfig(model);
    firstHistory(configLayers(config)[1]!)[0] = 'out';
    const file = fixtureFile('cycle-inspect.keras', kerasArchive(config, await writeGzipWeights(model)));
    model.dispose();
    const [summary] = await loadInChild('inspect', [file]);
    expect(summary).toEqual({ outcome: 'inspected', layers: 3, buildError: expect.stringMatching(/layers 'hidden', 'out' take their inputs from each other/) });
  }, 90_000);

  it('a well-formed graph with a layer called twice still loads', async () => {
    // Shared layer: 'shared' is called on x, then on its own output (node 0 feeds node 1): no cycle of nodes.
    const input = tf.input({ shape: [4], name: 'x' });
    const shared = tf.layers.dense({ units: 4, name: 'shared' });
    const once = shared.apply(input) as tf.SymbolicTensor;
    const twice = shared.apply(once) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: twice, name: 'twice' });
    // The fixture writer records one call per layer: add the second (on node 0 of 'shared') and output node 1.
    const config = tinyConfig(model);
    const sharedEntry = configLayers(config)[1]!;
    const first = (sharedEntry['inbound_nodes'] as Record<string, unknown>[])[0]!;
    const second = JSON.parse(JSON.stringify(first)) as Record<string, unknown>;
    firstHistory({ inbound_nodes: [second] }).splice(0, 3, 'shared', 0, 0);
    sharedEntry['inbound_nodes'] = [first, second];
    ((config['config'] as Record<string, unknown>)['output_layers'] as unknown[][])[0]![1] = 1;
    const loaded = await loadKerasModel(kerasArchive(config, await writeGzipWeights(model)));
    const x = tf.tensor2d([[1, -2, 3, 0.5]]);
    const [kernel, bias] = model.getWeights().map((w) => w.arraySync()) as [number[][], number[]];
    const dense = (v: number[]) => bias.map((b, j) => v.reduce((s, vi, i) => s + vi * kernel[i]![j]!, b));
    const y = loaded.predict(x) as tf.Tensor;
    const got = Array.from(y.dataSync());
    tf.dispose([x, y]);
    expect(got).toEqual(dense(dense([1, -2, 3, 0.5])).map((v) => expect.closeTo(v, 5)));
    loaded.dispose();
    model.dispose();
  });
});

describe('row 2: HDF5 gzip chunks inflate within a budget, counted as they come out', () => {
  it('a chunk that inflates past its declared size is refused, in .keras weights and by loadKerasWeights', async () => {
    const model = tinyDenseModel(4096); // 'hidden' kernel [4, 4096]: one 64 KiB chunk
    const config = tinyConfig(model);
    // 32 MiB of zeros in the slot of a 64 KiB chunk (before: inflated whole, then the model loaded).
    const bomb = plantChunkBomb(await writeGzipWeights(model), '/layers/dense/vars/0', 32 * 2 ** 20);
    await expectRefused(() => loadKerasModel(kerasArchive(config, bomb)), XceptionWeightsError,
      /dataset \/layers\/dense\/vars\/0 inflates past 65540 bytes, the size its dataset declares for one chunk: a decompression bomb/);
    const target = tinyDenseModel(4096);
    const before = target.getWeights().map((w) => w.dataSync().slice());
    await expectRefused(() => loadKerasWeights(target, bomb), XceptionWeightsError, /inflates past 65540 bytes/);
    expect(target.getWeights().map((w) => w.dataSync().slice())).toEqual(before); // unchanged
    target.dispose();
    model.dispose();
  });

  it('all chunks of a file together stop at maxUncompressedBytes; an honest compressed file loads exactly', async () => {
    const model = tinyDenseModel(256);
    const weights = await writeGzipWeights(model);
    const target = tinyDenseModel(256);
    // Chunks: 'hidden' kernel 4 × 256 float32 (4096 bytes), its bias (1024), 'out' kernel (2048) and bias (8).
    await expectRefused(() => loadKerasWeights(target, weights, { maxUncompressedBytes: 4000 }), XceptionWeightsError,
      /dataset \/layers\/dense\/vars\/0 declares 4096 bytes in chunks of 4096, more than the 4000 bytes left of maxUncompressedBytes \(4000\)/);
    await expectRefused(() => loadKerasWeights(target, weights, { maxUncompressedBytes: 4096 + 1023 }), XceptionWeightsError,
      /dataset \/layers\/dense\/vars\/1 declares 1024 bytes in chunks of 1024, more than the 1023 bytes left/);
    await expect(loadKerasWeights(target, weights, { maxUncompressedBytes: 0 })).rejects.toThrow(XceptionConfigError);
    // Exactly enough: every value as written.
    await loadKerasWeights(target, weights, { maxUncompressedBytes: 4096 + 1024 + 2048 + 8 });
    expect(target.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));
    target.dispose();
    model.dispose();
  });
});

describe('row 4: inspectKerasFile bounds what an archive may inflate to', () => {
  it('a weights member declaring 1.5 GiB is refused from its header; the limit is an option', async () => {
    const model = tinyDenseModel();
    const archive = kerasArchive(tinyConfig(model), await writeGzipWeights(model));
    model.dispose();
    const bomb = archive.slice();
    setDeclaredSize(bomb, 'model.weights.h5', 1.5 * 2 ** 30);
    await expectRefused(() => inspectKerasFile(bomb), XceptionModelFileError,
      /model\.weights\.h5 declares 1610612736 bytes uncompressed .* above the limit of 1073741824 \(raise maxUncompressedBytes/);
    await expectRefused(() => inspectKerasFile(archive, { maxUncompressedBytes: 100 }), XceptionModelFileError, /above the limit of 100/);
    expect((await inspectKerasFile(archive)).parameters).toBe(4 * 3 + 3 + 3 * 2 + 2);
    await expect(inspectKerasFile(archive, { maxBytes: 1 } as never)).rejects.toThrow(/Unknown inspectKerasFile option 'maxBytes'/);
  });
});

describe('row 5: layer sizes are bounded before anything is allocated', () => {
  it('a Dense of 2e8 units is refused at its first weight, by load and by inspect', async () => {
    const model = tinyDenseModel();
    const config = tinyConfig(model);
    (configLayers(config)[1]!['config'] as Record<string, unknown>)['units'] = 2e8;
    const bytes = kerasArchive(config, await writeGzipWeights(model));
    model.dispose();
    const started = performance.now();
    const limit = KERAS_FILE_LIMITS.maxParameters;
    await expectRefused(() => loadKerasModel(bytes), XceptionModelFileError,
      new RegExp(`layer 'hidden' declares a weight 'kernel' of shape \\[4, 200000000\\] \\(800000000 values\\).*above maxParameters \\(${limit}\\)`));
    const summary = await inspectKerasFile(bytes);
    expect(summary.parameters).toBeNull();
    expect(summary.buildError).toMatch(/shape \[4, 200000000\]/);
    expect(performance.now() - started).toBeLessThan(5000); // before: 25 s and 1.6 GB
  });

  it('maxParameters is the caller\'s to set', async () => {
    const model = tinyDenseModel(); // 15 + 8 = 23 parameters
    const bytes = kerasArchive(tinyConfig(model), await writeGzipWeights(model));
    model.dispose();
    await expectRefused(() => loadKerasModel(bytes, { maxParameters: 22 }), XceptionModelFileError,
      /layer 'out' declares a weight 'bias' of shape \[2\] \(2 values\), which takes the model to 23 parameters, above maxParameters \(22\)/);
    const loaded = await loadKerasModel(bytes, { maxParameters: 23 });
    expect(loaded.countParams()).toBe(23);
    loaded.dispose();
    await expect(loadKerasModel(bytes, { maxParameters: 1.5 })).rejects.toThrow(/loadKerasModel: maxParameters must be a positive integer; got 1.5/);
  });
});

describe('row 9: configs nested too deep are refused, not a stack overflow', () => {
  it('a layer config 5,000 arrays deep and a Sequential nested 20,000 deep', async () => {
    const model = tinyDenseModel();
    const weights = await writeGzipWeights(model);
    const config = tinyConfig(model);
    model.dispose();
    (configLayers(config)[1]!['config'] as Record<string, unknown>)['junk'] = '@@DEEP@@';
    const deepArray = kerasArchive(configText(config, deepArrayJson(5000)), weights);
    const deepSequential = kerasArchive(deepSequentialJson(20_000), weights);
    for (const bytes of [deepArray, deepSequential]) {
      await expectRefused(() => loadKerasModel(bytes), XceptionModelFileError, /config\.json is nested more than 100 levels deep \(KERAS_FILE_LIMITS\.maxConfigDepth\)/);
      await expectRefused(() => inspectKerasFile(bytes), XceptionModelFileError, /nested more than 100 levels deep/);
    }
  });
});

describe('byte sources: only regular files are read', () => {
  it('/dev/zero and a folder are refused before reading (/dev/zero used to be read until memory ran out)', async () => {
    await expectRefused(() => loadKerasModel('/dev/zero'), XceptionWeightsError, /^cannot read the weight file \/dev\/zero: it is not a regular file \(a folder, device or pipe\)\.$/);
    await expectRefused(() => inspectKerasFile(fixtureDir), XceptionWeightsError, /it is not a regular file/);
  });
});
