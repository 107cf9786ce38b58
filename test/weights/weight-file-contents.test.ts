import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadKerasWeights, XceptionWeightsError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

// Issue 14, finding 8: integer weight datasets used to load silently as
// floats, and a 100k-entry layer_names (kept by HDF5 in dense attribute
// storage) was reported as missing.
beforeAll(() => useBackend('cpu'));

let files = 0;
/** A Keras 2 weight file for one Dense layer 'fc' (kernel [3, 2], bias [2]), written with `kernel`'s array type. */
async function denseFile(kernel: ArrayBufferView, layerNames: string[] = ['fc']): Promise<Uint8Array> {
  await h5wasm.ready;
  const path = join(tmpdir(), `xception-ts-contents-${process.pid}-${files++}.h5`);
  const file = new h5wasm.File(path, 'w');
  try {
    file.create_attribute('layer_names', layerNames, null, `S${Math.max(...layerNames.map((n) => n.length)) + 1}`);
    const group = file.create_group('fc');
    group.create_attribute('weight_names', ['fc/kernel:0', 'fc/bias:0'], null, 'S12');
    const inner = group.create_group('fc');
    inner.create_dataset({ name: 'kernel:0', data: kernel as never, shape: [3, 2] });
    inner.create_dataset({ name: 'bias:0', data: new Float32Array([0.5, -0.5]), shape: [2] });
  } finally {
    file.close();
  }
  const bytes = new Uint8Array(readFileSync(path));
  rmSync(path);
  return bytes;
}

const dense = () => tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], name: 'fc' })] });

describe('weight dataset types', () => {
  it('loads float32 and float64 kernels (the control)', async () => {
    for (const kernel of [new Float32Array([1, 2, 3, 4, 5, 6]), new Float64Array([1, 2, 3, 4, 5, 6])]) {
      const model = dense();
      await loadKerasWeights(model, await denseFile(kernel));
      expect(Array.from(model.getWeights()[0]!.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      model.dispose();
    }
  });

  it.each([
    ['int32', new Int32Array([1, 2, 3, 4, 5, 6])],
    ['uint8', new Uint8Array([1, 2, 3, 4, 5, 6])],
    ['int64', new BigInt64Array([1n, 2n, 3n, 4n, 5n, 6n])],
  ])('refuses a %s kernel, naming the dataset, and leaves the model unchanged', async (type, kernel) => {
    const model = dense();
    const before = Array.from(model.getWeights()[0]!.dataSync());
    const error = await loadKerasWeights(model, await denseFile(kernel)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XceptionWeightsError);
    expect((error as Error).message).toBe(
      `the weight file: dataset /fc/fc/kernel:0 holds ${type} values; weights are floating point (float16, float32 or float64), ` +
        'so this is not a weight file (or not one of this model).',
    );
    expect(Array.from(model.getWeights()[0]!.dataSync())).toEqual(before);
    model.dispose();
  });
});

describe('attributes in dense storage', () => {
  it('a 100k-entry layer_names is reported as such, not as a missing attribute', async () => {
    const names = ['fc', ...Array.from({ length: 100_000 }, (_, i) => `layer_${i}`)];
    const model = dense();
    const error = await loadKerasWeights(model, await denseFile(new Float32Array(6), names)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XceptionWeightsError);
    expect((error as Error).message).toBe(
      "the weight file keeps the attributes of / in HDF5 dense storage (over 64 KB of them, e.g. a very long 'layer_names' " +
        "written in one piece), which this reader cannot read. Keras itself splits long lists into 'layer_names0', " +
        "'layer_names1', …; save the weights with Keras' save_weights.",
    );
    model.dispose();
  });
});
