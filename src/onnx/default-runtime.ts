import { XceptionConfigError } from '../errors.js';
import { importOptional, isNode } from '../platform/node-import.js';
import type { OnnxRuntime } from './onnx-classifier.js';

/**
 * `onnxruntime-node`, imported at run time in Node (a variable specifier, so
 * browser bundlers leave it alone); in a browser the caller must pass
 * `onnxruntime-web` itself. `caller` names the function in the error. @internal
 */
export async function defaultRuntime(caller: string): Promise<OnnxRuntime> {
  if (!isNode()) {
    throw new XceptionConfigError(`${caller}: pass ONNX Runtime Web as options.ort in a browser: import * as ort from 'onnxruntime-web'.`);
  }
  try {
    const module = await importOptional<OnnxRuntime & { default?: OnnxRuntime }>('onnxruntime-node');
    return module.InferenceSession ? module : module.default!;
  } catch (error) {
    throw new XceptionConfigError(`${caller} needs onnxruntime-node in Node (npm install onnxruntime-node): ${(error as Error).message}`);
  }
}
