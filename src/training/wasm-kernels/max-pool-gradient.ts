import {
  backend_util,
  cast,
  equal,
  keep,
  mul,
  onesLike,
  sub,
  tidy,
  type NamedAttrMap,
  type Tensor,
  type Tensor4D,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { asTensor, mapTaps, scatterTaps, type Pad, type Pair } from './windows.js';

/**
 * dx of a max pool: each window's gradient goes to the first position (in
 * row-major window order, as TensorFlow does) that holds the window's
 * maximum. Tap by tap: compare the tap's inputs with the pooled output and
 * keep the windows not yet claimed; then add dy back at each tap's positions.
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
    let unclaimed: Tensor = onesLike(y);
    const contributions = mapTaps(x, info, Number.NEGATIVE_INFINITY, (window) => {
      const hit = mul(cast(equal(window, y), 'float32'), unclaimed);
      const rest = keep(sub(unclaimed, hit));
      unclaimed.dispose();
      unclaimed = rest;
      return mul(hit, dy) as Tensor4D;
    });
    unclaimed.dispose(); // kept across the per-tap tidies
    const dx = scatterTaps(contributions, info);
    return dx;
  });
}
