// Picks the TensorFlow.js backend: the native 'tensorflow' one (tfjs-node-gpu, then tfjs-node)
// when it loads, else the wasm backend with xception-ts' training kernels, else the pure-JS cpu one.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { enableWasmTraining } from 'xception-ts';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** What was loaded: the backend's name, and tfjs-node's `node` namespace when it is active (file://, TensorBoard). */
export interface SelectedBackend {
  name: string;
  /** e.g. "@tensorflow/tfjs-node-gpu" or "@tensorflow/tfjs-backend-wasm". */
  packageName: string;
  tfNode?: { tensorBoard(logdir: string): tf.CustomCallbackArgs };
}

const GPU_REQUIREMENTS = 'it needs Linux or Windows x86-64, CUDA 11.2 + cuDNN 8.1 and Node ≤ 22, and its install script must have downloaded libtensorflow';

/** Imports a native tfjs package; on failure, returns the first line of the reason. */
async function tryNative(packageName: string): Promise<{ ok: true; module: { node: SelectedBackend['tfNode'] } } | { ok: false; reason: string }> {
  try {
    const module = (await import(packageName)) as { node: SelectedBackend['tfNode']; default?: { node: SelectedBackend['tfNode'] } };
    return { ok: true, module: module.node ? module : module.default! };
  } catch (error) {
    return { ok: false, reason: String((error as Error).message).split('\n')[0]!.slice(0, 200) };
  }
}

async function useWasm(): Promise<SelectedBackend> {
  const require = createRequire(import.meta.url);
  setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  enableWasmTraining(); // the gradient kernels the wasm backend lacks
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  return { name: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm' };
}

/**
 * Selects and initialises a backend. `log` receives one line per fallback, saying why.
 * 'tensorflow' fails when neither native package loads; 'auto' falls back to wasm.
 */
export async function selectBackend(choice: BackendChoice, log: (line: string) => void): Promise<SelectedBackend> {
  tf.env().set('PROD', true);
  if (choice === 'auto' || choice === 'tensorflow') {
    for (const packageName of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      const loaded = await tryNative(packageName);
      if (loaded.ok) {
        await tf.setBackend('tensorflow');
        return { name: 'tensorflow', packageName, tfNode: loaded.module.node };
      }
      const why = packageName.endsWith('-gpu') ? ` (${GPU_REQUIREMENTS})` : '';
      log(`${packageName} did not load: ${loaded.reason}${why}.`);
    }
    if (choice === 'tensorflow') {
      throw new Error("--backend tensorflow: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loaded (see above); try --backend wasm.");
    }
    log('Falling back to the wasm backend (no native code; xception-ts registers its training kernels).');
    return useWasm();
  }
  if (choice === 'wasm') return useWasm();
  await tf.setBackend('cpu');
  return { name: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu' };
}
