import {
  add,
  backend_util,
  cast,
  equal,
  mul,
  onesLike,
  sub,
  tidy,
  zerosLike,
  type NamedAttrMap,
  type Tensor,
  type Tensor4D,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { asTensor, cropOrPad, insertZeros, taps, type Pad, type Pair } from './windows.js';

/**
 * dx of a max pool: each window's gradient goes to the first position (in
 * row-major window order, as TensorFlow does) that holds the window's
 * maximum. Tap by tap: compare the tap's inputs with the pooled output,
 * keep the windows not yet claimed, and add dy back at the tap's positions.
 * It replaces tfjs-backend-wasm 4.22's MaxPoolGrad, which sends gradients to
 * the wrong inputs at some sizes. @internal
 */
export function maxPoolGrad({ inputs, attrs }: { inputs: Record<string, TensorInfo>; attrs?: NamedAttrMap }): TensorInfo {
  const a = attrs as unknown as { filterSize: Pair; strides: Pair; pad: Pad; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  return tidy(() => {
    const x = asTensor<Tensor4D>(inputs['input']!);
    const dy = asTensor<Tensor4D>(inputs['dy']!);
    const y = asTensor<Tensor4D>(inputs['output']!);
    const info = backend_util.computePool2DInfo(x.shape, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const [, height, width] = x.shape;
    const { strideHeight: sh, strideWidth: sw, padInfo } = info;
    let unclaimed: Tensor = onesLike(y);
    let dx: Tensor = zerosLike(x);
    taps(x, info, Number.NEGATIVE_INFINITY).forEach((row, i) =>
      row.forEach((window, j) => {
        const hit = mul(cast(equal(window, y), 'float32'), unclaimed);
        unclaimed = sub(unclaimed, hit);
        const spread = insertZeros(mul(hit, dy) as Tensor4D, sh, sw);
        const top = i - padInfo.top;
        const left = j - padInfo.left;
        dx = add(dx, cropOrPad(spread, top, height - top - spread.shape[1], left, width - left - spread.shape[2]));
      }),
    );
    return dx;
  });
}
