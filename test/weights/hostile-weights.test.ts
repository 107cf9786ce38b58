import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadKerasWeights, separableBlock, XceptionWeightsError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { writeKerasWeights, type KerasLayout } from '../helpers/keras-fixtures.js';

beforeAll(() => useBackend('cpu'));

/** A tiny model with a separable conv, a BN and a dense layer: a ~10 KB weight file. */
function tinyModel(): tf.LayersModel {
  const x = tf.input({ shape: [8, 8, 3], name: 'input1' });
  let y = separableBlock(x, { filters: 4, name: 'b1' });
  y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 3, name: 'fc' }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

const bits = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(new Uint32Array((w.dataSync() as Float32Array).slice().buffer)));

/** Loads and asserts: either success, or an XceptionWeightsError with the model unchanged and no tensor leaked. */
async function loadOrRefuse(model: tf.LayersModel, bytes: Uint8Array): Promise<'loaded' | 'refused'> {
  const before = bits(model);
  const tensors = tf.memory().numTensors;
  try {
    await loadKerasWeights(model, bytes);
    return 'loaded';
  } catch (error) {
    expect(error).toBeInstanceOf(XceptionWeightsError);
    expect(bits(model)).toEqual(before);
    expect(tf.memory().numTensors).toBe(tensors);
    return 'refused';
  }
}

describe('hostile weight files', () => {
  let good: Uint8Array;
  let model: tf.LayersModel;
  beforeAll(async () => {
    model = tinyModel();
    good = await writeKerasWeights(tinyModel(), 'keras2');
  });

  it('refuses a file that is not HDF5, naming the signature', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    await expect(loadKerasWeights(model, png)).rejects.toThrow(
      'the weight file is not an HDF5 file: it does not start with the HDF5 signature (89 48 44 46 0d 0a 1a 0a).',
    );
    await expect(loadKerasWeights(model, new Uint8Array(3))).rejects.toThrow('it is only 3 bytes long');
  });

  it('refuses HDF5 that is not a Keras weight file', async () => {
    const other = await writeKerasWeights(tinyModel(), 'keras2');
    // Rename the root 'layer_names' attribute in place (same length), so no layout matches.
    const text = Buffer.from(other);
    const at = text.indexOf('layer_names');
    text.write('layer_nameX', at);
    await expect(loadKerasWeights(model, new Uint8Array(text))).rejects.toThrow(
      "is HDF5 but not a Keras weight file: it has no 'layer_names' attribute",
    );
  });

  it('refuses every truncation with a typed error and leaves the model unchanged', async () => {
    for (const fraction of [0.1, 0.3, 0.5, 0.7, 0.9, 0.99]) {
      expect(await loadOrRefuse(model, good.slice(0, Math.floor(good.length * fraction)))).toBe('refused');
    }
    await expect(loadKerasWeights(model, good.slice(0, good.length - 1))).rejects.toThrow(
      `the weight file is truncated: its superblock says it ends at byte ${good.length}, but only ${good.length - 1} bytes are there.`,
    );
  });

  it('refuses a dataset header that claims gigabytes, in bounded time, before reading data', async () => {
    // The dense kernel's dataspace holds its dims [4, 3] as two little-endian uint64s.
    const dims = new Uint8Array(new BigUint64Array([4n, 3n]).buffer);
    const bytes = good.slice();
    const at = Buffer.from(bytes).indexOf(Buffer.from(dims));
    expect(at).toBeGreaterThan(0);
    new DataView(bytes.buffer).setBigUint64(at, 4_000_000_000n, true);
    const start = performance.now();
    await expect(loadKerasWeights(model, bytes)).rejects.toThrow(
      "weight 0 ('kernel') has shape [4,3] in the model and [4000000000,3] in the file (dataset /fc/fc/kernel:0).",
    );
    expect(performance.now() - start).toBeLessThan(1000);
  });

  // Mutation test: random bit flips, byte scrambles and truncations of small
  // fixtures in both string flavours. Each one loads or is refused with
  // XceptionWeightsError (model unchanged) - never a hang, a crash or another error.
  it.each(['keras1', 'keras2'] as KerasLayout[])('%s: 300 random corruptions each load or are refused cleanly', async (layout) => {
    const original = await writeKerasWeights(tinyModel(), layout);
    let seed = layout === 'keras1' ? 1 : 2;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const outcomes = { loaded: 0, refused: 0 };
    let slowest = 0;
    for (let i = 0; i < 300; i++) {
      let bytes = original.slice();
      if (i % 3 === 0) bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
      else if (i % 3 === 1) for (let k = 0; k < 8; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      else bytes = bytes.slice(0, Math.floor(random() * bytes.length));
      const target = tinyModel();
      const start = performance.now();
      outcomes[await loadOrRefuse(target, bytes)]++;
      slowest = Math.max(slowest, performance.now() - start);
      target.dispose();
    }
    expect(outcomes.loaded + outcomes.refused).toBe(300);
    expect(outcomes.refused).toBeGreaterThan(50); // the corruptions are real
    expect(slowest).toBeLessThan(2000);
  }, 120_000);
});
