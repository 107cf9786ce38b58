// Bundled by test/browser/weights-in-chromium.test.ts with esbuild and run in
// Chromium: builds a small Xception on the cpu backend, loads Keras HDF5
// weights from a URL with xception-ts' browser code path, and reports results.
import * as tf from '@tensorflow/tfjs';
import { createXception, loadKerasWeights, XceptionWeightsError } from '../../src/index.js';

declare global {
  interface Window {
    runWeightsCheck(url: string, inputValues: number[]): Promise<unknown>;
  }
}

window.runWeightsCheck = async (url, inputValues) => {
  await tf.setBackend('cpu');
  const model = createXception({ inputShape: [71, 71, 3], numClasses: 10, middleFlowRepeats: 1 });
  const result = await loadKerasWeights(model, url);
  const output = model.predict(tf.tensor(inputValues, [1, 71, 71, 3])) as tf.Tensor;
  const broken = await loadKerasWeights(model, new Blob([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])])).catch((e: unknown) => e);
  return {
    backend: tf.getBackend(),
    result,
    predictions: Array.from(output.dataSync()),
    brokenIsTyped: broken instanceof XceptionWeightsError,
    brokenMessage: (broken as Error).message,
  };
};
