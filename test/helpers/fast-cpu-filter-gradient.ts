import * as tf from '@tensorflow/tfjs';

/*
 * tfjs' cpu Conv2DBackpropFilter reads every element through TensorBuffer.get(),
 * which makes one full-width Xception gradient take minutes. The gradient
 * tests only ask whether gradients reach every weight, so they may compute the
 * same sums with flat typed-array indexing instead. test/fast-cpu-filter-gradient.test.ts
 * checks this kernel against tfjs' own on a table of shapes, strides and paddings.
 */

type Info = { dataId: object; shape: number[]; dtype: string };
type CpuBackend = { data: { get(id: object): { values: Float32Array } }; makeTensorInfo(shape: number[], dtype: string, values: Float32Array): Info };

const original = tf.getKernel('Conv2DBackpropFilter', 'cpu')!;

/** The same result as tfjs' cpu kernel (NHWC, dilation 1), computed with flat indexing. */
function conv2dBackpropFilter({ inputs, backend, attrs }: { inputs: { x: Info; dy: Info }; backend: CpuBackend; attrs: Record<string, unknown> }): Info {
  const { x, dy } = inputs;
  const { strides, pad, dimRoundingMode, filterShape } = attrs as {
    strides: [number, number] | number; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const xv = backend.data.get(x.dataId).values;
  const dyv = backend.data.get(dy.dataId).values;
  const dw = new Float32Array(filterHeight * filterWidth * inChannels * outChannels);
  const row = new Float64Array(outChannels);
  for (let fr = 0; fr < filterHeight; fr++) {
    for (let fc = 0; fc < filterWidth; fc++) {
      for (let ci = 0; ci < inChannels; ci++) {
        row.fill(0);
        for (let b = 0; b < batchSize; b++) {
          for (let yr = 0; yr < outHeight; yr++) {
            const xr = yr * strideHeight + fr - top;
            if (xr < 0 || xr >= inHeight) continue;
            for (let yc = 0; yc < outWidth; yc++) {
              const xc = yc * strideWidth + fc - left;
              if (xc < 0 || xc >= inWidth) continue;
              const xval = xv[((b * inHeight + xr) * inWidth + xc) * inChannels + ci]!;
              if (xval === 0) continue;
              const dyBase = ((b * outHeight + yr) * outWidth + yc) * outChannels;
              for (let co = 0; co < outChannels; co++) row[co] = row[co]! + xval * dyv[dyBase + co]!;
            }
          }
        }
        dw.set(row, ((fr * filterWidth + fc) * inChannels + ci) * outChannels);
      }
    }
  }
  return backend.makeTensorInfo(filterShape, 'float32', dw);
}

/** Swaps the fast kernel in (idempotent). */
export function useFastCpuFilterGradient(): void {
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'cpu', kernelFunc: conv2dBackpropFilter as never });
}

/** Puts tfjs' own kernel back. */
export function useTfjsCpuFilterGradient(): void {
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel(original);
}
