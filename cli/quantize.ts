/*
 * Weight quantization as TensorFlow.js' loader decodes it (tf.io.decodeWeights):
 * 'float16' stores IEEE half floats; 'uint8' stores round((v - min) / scale)
 * with the per-tensor min and scale in the manifest.
 */

/** How the converter may store weights. */
export type Quantization = 'float16' | 'uint8';

/** A weight entry of a tfjs manifest, with its quantization when there is one. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
  quantization?: { dtype: 'float16' } | { dtype: 'uint8'; scale: number; min: number };
}

/** Quantizes one float32 tensor's values, returning the bytes and the spec to write. */
export function quantize(values: Float32Array, spec: WeightSpec, kind: Quantization): { bytes: Uint8Array; spec: WeightSpec } {
  if (kind === 'float16') {
    const halves = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) halves[i] = toFloat16(values[i]!);
    return { bytes: new Uint8Array(halves.buffer), spec: { ...spec, quantization: { dtype: 'float16' } } };
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) min = max = 0;
  const scale = max > min ? (max - min) / 255 : 1;
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) bytes[i] = Math.round((values[i]! - min) / scale);
  return { bytes, spec: { ...spec, quantization: { dtype: 'uint8', scale, min } } };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE 754 binary16 bits, rounding to nearest even; overflow to ±Infinity. */
export function toFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf, NaN
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // too small: ±0
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
  return sign | half;
}
