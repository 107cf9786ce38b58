import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/**
 * Selects a TensorFlow.js backend for one test file: 'wasm' for full-size
 * forward passes (its .wasm files ship in the npm package), 'cpu' for gradients
 * (the wasm backend lacks the convolution gradient kernels).
 */
export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (name === 'wasm') {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    setWasmPaths(join(dist, '/'));
  }
  tf.env().set('PROD', true); // silences the "install tfjs-node" banner of the cpu backend
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
}

/** Number of scalars in a shape. */
export function sizeOf(shape: readonly (number | null)[]): number {
  return shape.reduce<number>((n, d) => n * (d as number), 1);
}
