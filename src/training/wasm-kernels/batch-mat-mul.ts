import { matMul, tidy, transpose, type KernelFunc, type NamedAttrMap, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';
import { asTensor } from './windows.js';

/**
 * Wraps the wasm backend's BatchMatMul so that a transposed operand is
 * transposed explicitly first: its kernel multiplies transposed operands
 * ~10× slower than plain ones (and the gradients of dense layers and of
 * convolutions ask for them). Plain products go straight to `original`. @internal
 */
export function explicitTransposes(original: KernelFunc): KernelFunc {
  return (args) => {
    const { transposeA, transposeB } = (args.attrs ?? {}) as NamedAttrMap & { transposeA?: boolean; transposeB?: boolean };
    if (!transposeA && !transposeB) return original(args);
    const inputs = args.inputs as Record<string, TensorInfo>;
    return tidy(() => {
      // Swaps the last two axes (the matrix axes) and keeps the batch axes in place.
      const swap = (t: Tensor) => {
        const axes = t.shape.map((_, axis) => axis);
        axes.push(...axes.splice(-2).reverse());
        return transpose(t, axes);
      };
      const a = asTensor(inputs['a']!);
      const b = asTensor(inputs['b']!);
      return matMul(transposeA ? swap(a) : a, transposeB ? swap(b) : b);
    });
  };
}
