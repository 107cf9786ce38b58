import { describe, expect, it, vi } from 'vitest';

// h5wasm is an optional peer dependency: without it, saving says how to get it.
vi.mock('../../src/platform/node-import.js', async (original) => {
  const actual = await original<typeof import('../../src/platform/node-import.js')>();
  return {
    ...actual,
    importOptional: (specifier: string) =>
      specifier === 'h5wasm' ? Promise.reject(new Error("Cannot find package 'h5wasm'")) : actual.importOptional(specifier),
  };
});

const { createXception, saveKerasModel, saveKerasWeights, XceptionConfigError } = await import('../../src/index.js');
const { useBackend } = await import('../helpers/backend.js');

describe('without h5wasm installed', () => {
  it('saveKerasWeights and saveKerasModel throw a typed error that says npm install h5wasm', async () => {
    await useBackend('cpu');
    const model = createXception({ preset: 'tiny', inputShape: [16, 16, 1], numClasses: 2 });
    for (const save of [() => saveKerasWeights(model, { format: 'keras2' }), () => saveKerasModel(model)]) {
      const error = await save().then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(XceptionConfigError);
      expect((error as Error).message).toMatch(/writes HDF5 with h5wasm, an optional peer dependency that is not installed: npm install h5wasm \(Cannot find package 'h5wasm'\)/);
    }
    model.dispose();
  });
});
