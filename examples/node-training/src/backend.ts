// Picks the engine: TensorFlow.js' native 'tensorflow' backend (tfjs-node-gpu, then tfjs-node)
// when it loads, else ONNX Runtime (onnxruntime-node, through xception-ts/onnx's trainer), else
// TensorFlow.js' wasm backend with xception-ts' training kernels; or the pure-JS cpu one.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { enableWasmTraining } from 'xception-ts';
import type { OnnxRuntime } from 'xception-ts/onnx';

export type BackendChoice = 'auto' | 'tensorflow' | 'onnx' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'onnx', 'wasm', 'cpu'];

/** What was loaded: the backend's name, and tfjs-node's `node` namespace when it is active (file://, TensorBoard). */
export interface SelectedBackend {
  name: string;
  /** e.g. "@tensorflow/tfjs-node-gpu" or "@tensorflow/tfjs-backend-wasm". */
  packageName: string;
  tfNode?: { tensorBoard(logdir: string): tf.CustomCallbackArgs };
  /** onnxruntime-node, when ONNX Runtime trains (tfjs then runs on 'cpu' for the model's variables and the data). */
  ort?: OnnxRuntime;
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

/** onnxruntime-node, or why it did not load. */
async function tryOnnx(): Promise<{ ok: true; ort: OnnxRuntime } | { ok: false; reason: string }> {
  try {
    const module = (await import('onnxruntime-node')) as unknown as OnnxRuntime & { default?: OnnxRuntime };
    return { ok: true, ort: module.InferenceSession ? module : module.default! };
  } catch (error) {
    return { ok: false, reason: onnxFailure(error as Error & { code?: string }) };
  }
}

/** Why onnxruntime-node did not load, and what fixes it. */
export function onnxFailure(error: Error & { code?: string }): string {
  const message = String(error.message).split('\n')[0]!.slice(0, 200);
  if (error.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (package|module) 'onnxruntime-node'/.test(message)) {
    return (
      'it is not installed. It is an optional dependency, and npm drops it when its install script fails, ' +
      'which it does offline unless ONNXRUNTIME_NODE_INSTALL=skip is set (the script only fetches a CUDA provider; ' +
      'the CPU binary ships in the package). Fix: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node'
    );
  }
  return (
    `it is installed but its native binding failed (${message}). Its CPU binary ships for Linux, macOS and Windows ` +
    'on x64 and arm64. Fix: reinstall it with ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node'
  );
}

async function useOnnx(ort: OnnxRuntime): Promise<SelectedBackend> {
  await tf.setBackend('cpu'); // holds the model's variables between syncs, and the batches
  return { name: 'onnx', packageName: 'onnxruntime-node', ort };
}

/**
 * Selects and initialises a backend. `log` receives one line per fallback, saying why.
 * 'tensorflow' fails when neither native package loads, 'onnx' when onnxruntime-node does not;
 * 'auto' falls back to ONNX Runtime, then to wasm.
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
      throw new Error("--backend tensorflow: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loaded (see above); try --backend onnx or wasm.");
    }
  }
  if (choice === 'auto' || choice === 'onnx') {
    const loaded = await tryOnnx();
    if (loaded.ok) {
      if (choice === 'auto') log('Falling back to ONNX Runtime (onnxruntime-node; xception-ts/onnx builds the training graph).');
      return useOnnx(loaded.ort);
    }
    if (choice === 'onnx') throw new Error(`--backend onnx: onnxruntime-node did not load: ${loaded.reason}.`);
    log(`onnxruntime-node did not load: ${loaded.reason}.`);
    log('Falling back to the wasm backend (no native code; xception-ts registers its training kernels), about 12× slower to train than ONNX Runtime.');
    return useWasm();
  }
  if (choice === 'wasm') return useWasm();
  await tf.setBackend('cpu');
  return { name: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu' };
}
