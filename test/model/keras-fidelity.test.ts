import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayersModel } from '@tensorflow/tfjs';
import { createXception, layerTable } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { readReferenceTable } from '../helpers/reference-table.js';

// Keras Applications' Xception, layer by layer, from ../shared/reference (copied
// into test/fixtures): class, Keras name, output shape and weight shapes.
const reference = readReferenceTable();
let model: LayersModel;

beforeAll(async () => {
  await useBackend('cpu');
  model = createXception();
});
afterAll(() => model.dispose());

const formatShape = (shape: (number | null)[]) => `[${shape.map((d) => d ?? 'N').join(',')}]`;

describe("'keras' preset against Keras Applications' layer table", () => {
  it('has the same number of layers (134) and weighted layers (81)', () => {
    expect(reference).toHaveLength(134);
    expect(model.layers).toHaveLength(reference.length);
    expect(model.layers.filter((l) => l.weights.length > 0)).toHaveLength(81);
  });

  it.each(reference.map((row) => [row.index, row] as const))('layer %i', (index, row) => {
    const layer = model.layers[index - 1]!;
    expect(layer.getClassName()).toBe(row.className);
    if (row.kerasName !== null) expect(layer.name).toBe(row.kerasName);
    expect(formatShape(layer.outputShape as (number | null)[])).toBe(row.outputShape);
    expect(layer.weights.map((w) => `${w.originalName.split('/').pop()}[${w.shape.join(',')}]`)).toEqual(row.weights);
  });

  it('names the layers Keras leaves unnamed, deterministically', () => {
    const unnamed = reference.filter((row) => row.kerasName === null).map((row) => model.layers[row.index - 1]!.name);
    expect(unnamed).toEqual([
      'input',
      'block2_residual_conv', 'block2_residual_bn', 'block2_add',
      'block3_residual_conv', 'block3_residual_bn', 'block3_add',
      'block4_residual_conv', 'block4_residual_bn', 'block4_add',
      ...[5, 6, 7, 8, 9, 10, 11, 12].map((n) => `block${n}_add`),
      'block13_residual_conv', 'block13_residual_bn', 'block13_add',
    ]);
    // A second model gets the very same names: nothing depends on tfjs' global counters.
    const again = createXception();
    expect(again.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    again.dispose();
  });

  it('uses no bias in any convolution, Keras BN defaults, and a softmax classifier', () => {
    const config = (name: string) => model.getLayer(name).getConfig();
    expect(config('block1_conv1')).toMatchObject({ useBias: false, padding: 'valid', strides: [2, 2] });
    expect(config('block1_conv2')).toMatchObject({ useBias: false, padding: 'valid' });
    expect(config('block2_sepconv1')).toMatchObject({ useBias: false, padding: 'same' });
    expect(config('block2_residual_conv')).toMatchObject({ useBias: false, padding: 'same', strides: [2, 2] });
    expect(config('block2_pool')).toMatchObject({ poolSize: [3, 3], strides: [2, 2], padding: 'same' });
    expect(config('block5_sepconv1_bn')).toMatchObject({ epsilon: 1e-3, momentum: 0.99 });
    expect(config('predictions')).toMatchObject({ units: 1000, activation: 'softmax', useBias: true });
  });

  it('agrees with layerTable()', () => {
    const rows = layerTable(model);
    expect(rows.map((r) => r.className)).toEqual(reference.map((r) => r.className));
    expect(rows.map((r) => r.weights)).toEqual(reference.map((r) => r.weights));
    expect(rows.reduce((n, r) => n + r.params, 0)).toBe(22_910_480);
  });
});
