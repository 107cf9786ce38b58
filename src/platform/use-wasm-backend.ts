import * as tf from '@tensorflow/tfjs-core';
import { XceptionConfigError } from '../errors.js';
import { requireKnownOptions } from '../model/xception-options.js';
import { enableWasmTraining } from '../training/wasm-training.js';
import { importNode, importOptional, isNode } from './node-import.js';

/**
 * Options of {@link useWasmBackend}.
 *
 * @example
 * ```ts
 * import { useWasmBackend, type UseWasmBackendOptions } from 'xception-ts';
 *
 * const options: UseWasmBackendOptions = { training: true };
 * await useWasmBackend(options);
 * ```
 * @category Platform
 */
export interface UseWasmBackendOptions {
  /** Also register the gradient kernels the wasm backend lacks ({@link enableWasmTraining}). Default `false`. */
  training?: boolean;
  /**
   * Where the `.wasm` files are: a folder path or URL prefix ending in `/`.
   * Default in Node: the installed `@tensorflow/tfjs-backend-wasm`'s `dist/`
   * folder. Required in browsers (your bundler's asset URL or a CDN).
   */
  wasmPaths?: string;
  /**
   * Keep the `uncaughtException`/`unhandledRejection` handlers that the
   * wasm module's Emscripten runtime adds to `process`. Default `false`: they
   * are removed (see {@link useWasmBackend}).
   */
  keepEmscriptenHandlers?: boolean;
}

/**
 * What {@link useWasmBackend} did.
 *
 * @example
 * ```ts
 * import { useWasmBackend, type WasmBackendInfo } from 'xception-ts';
 *
 * const info: WasmBackendInfo = await useWasmBackend();
 * console.log(`wasm files from ${info.wasmPaths}`);
 * ```
 * @category Platform
 */
export interface WasmBackendInfo {
  /** The folder or URL prefix the `.wasm` files were loaded from. */
  wasmPaths: string;
  /** The gradient kernels registered now (empty without `training`, or when already registered). */
  trainingKernels: string[];
  /** How many process handlers of the Emscripten runtime were removed. */
  removedProcessHandlers: number;
}

type WasmModule = { setWasmPaths(prefix: string): void };
type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
const EVENTS: ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];
type Listener = (...args: unknown[]) => void;
const listenersOf = (event: ProcessEvent): Listener[] => (process.listeners as (name: string) => Listener[])(event);

/**
 * Selects TensorFlow.js' `wasm` backend in one call: imports
 * `@tensorflow/tfjs-backend-wasm` (a peer you install; the library never
 * imports a backend on its own), points it at its `.wasm` files (in Node
 * the installed package's), sets and awaits the backend, and with
 * `training: true` registers the gradient kernels the backend lacks
 * ({@link enableWasmTraining}). It replaces the `createRequire` /
 * `setWasmPaths` / `setBackend` lines every Node program needed.
 *
 * Readable errors: the wasm module's Emscripten runtime adds an
 * `uncaughtException` handler that rethrows from inside its own minified
 * source, so that Node prints ~40 KB of that source before your error and
 * exits with code 7, and an `unhandledRejection` handler that does the same.
 * In Node this removes exactly the handlers added while the backend
 * initialised (the runtime needs them only for `exit()` inside the module,
 * which tfjs never calls), so an uncaught error prints as usual and exits
 * with code 1. Pass `keepEmscriptenHandlers: true` to keep them.
 *
 * Errors: an {@link XceptionConfigError} when the backend package is not
 * installed, when no `wasmPaths` is given in a browser, or when the backend
 * fails to initialise (the message says why).
 *
 * @param options - `training`, `wasmPaths`, `keepEmscriptenHandlers`; see {@link UseWasmBackendOptions}.
 * @returns Where the `.wasm` files came from and what was registered or removed.
 *
 * @example
 * ```ts
 * // npm install @tensorflow/tfjs @tensorflow/tfjs-backend-wasm
 * import { createXception, useWasmBackend } from 'xception-ts';
 *
 * await useWasmBackend({ training: true });
 * const model = createXception({ numClasses: 10, inputShape: [150, 150, 3] });
 * ```
 * @category Platform
 */
export async function useWasmBackend(options: UseWasmBackendOptions = {}): Promise<WasmBackendInfo> {
  requireKnownOptions('useWasmBackend', options, ['training', 'wasmPaths', 'keepEmscriptenHandlers']);
  for (const key of ['training', 'keepEmscriptenHandlers'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      throw new XceptionConfigError(`useWasmBackend: ${key} must be true or false; got ${JSON.stringify(options[key])}.`);
    }
  }
  if (options.wasmPaths !== undefined && (typeof options.wasmPaths !== 'string' || !options.wasmPaths.endsWith('/'))) {
    throw new XceptionConfigError(`useWasmBackend: wasmPaths must be a folder path or URL prefix ending in '/'; got ${JSON.stringify(options.wasmPaths)}.`);
  }
  let wasm: WasmModule;
  try {
    wasm = await importOptional<WasmModule>('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    throw new XceptionConfigError(
      `useWasmBackend needs @tensorflow/tfjs-backend-wasm (npm install @tensorflow/tfjs-backend-wasm@${tf.version_core}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const wasmPaths = options.wasmPaths ?? (await installedWasmFolder());
  wasm.setWasmPaths(wasmPaths);
  const trainingKernels = options.training ? enableWasmTraining() : [];

  const before = new Map(EVENTS.map((event) => [event, isNode() ? listenersOf(event) : []]));
  let ready: boolean;
  try {
    ready = await tf.setBackend('wasm');
    await tf.ready();
  } catch (error) {
    throw new XceptionConfigError(`useWasmBackend: the wasm backend failed to initialise from ${wasmPaths}: ${(error as Error).message}`, { cause: error });
  }
  if (!ready) throw new XceptionConfigError(`useWasmBackend: the wasm backend failed to initialise from ${wasmPaths} (see the warning above).`);

  let removedProcessHandlers = 0;
  if (isNode() && !options.keepEmscriptenHandlers) {
    for (const event of EVENTS) {
      const had = before.get(event)!;
      for (const listener of listenersOf(event)) {
        if (had.includes(listener)) continue;
        process.removeListener(event, listener);
        removedProcessHandlers++;
      }
    }
  }
  return { wasmPaths, trainingKernels, removedProcessHandlers };
}

/** The installed backend's dist/ folder, found the way Node resolves the package. */
async function installedWasmFolder(): Promise<string> {
  if (!isNode()) {
    throw new XceptionConfigError(
      "useWasmBackend: in a browser pass wasmPaths, the URL prefix of the .wasm files (e.g. 'https://cdn.jsdelivr.net/npm/@tensorflow/tfjs-backend-wasm@4.22.0/dist/').",
    );
  }
  const { createRequire } = await importNode<typeof import('node:module')>('node:module');
  const { dirname, join, resolve } = await importNode<typeof import('node:path')>('node:path');
  // Resolved as Node resolves the program's own imports: from the working directory, then from the
  // script being run (the library's own location is not known in both its ESM and CommonJS builds).
  const bases = [process.cwd(), ...(process.argv[1] ? [dirname(resolve(process.argv[1]))] : [])];
  for (const base of bases) {
    try {
      return join(dirname(createRequire(join(base, 'noop.js')).resolve('@tensorflow/tfjs-backend-wasm')), '/');
    } catch {
      // not installed under this folder: try the next
    }
  }
  throw new XceptionConfigError(
    `useWasmBackend: cannot find @tensorflow/tfjs-backend-wasm's .wasm files from ${bases.join(' or ')}; pass wasmPaths, the folder that holds them (its dist/).`,
  );
}
