import type { DifferentiableGraph, Value, Weight } from './differentiable-graph.js';
import type { ReluGradient } from './elementwise.js';
import { int, ints, type Attribute } from './graph-writer.js';
import { nchwcDepthwiseConv, nchwcTakes } from './nchwc-depthwise.js';

/**
 * Convolutions (full, 1×1, depthwise) forward in NCHW and their gradients,
 * each in the formulation that measured fastest on ONNX Runtime (see
 * bench/parts/onnx-training-step.mjs). Internal.
 */

/** A convolution or pooling window with TensorFlow's padding written out. */
export interface WindowGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** [top, left, bottom, right], as TensorFlow pads ('same': the extra one at the end). */
  pads: [number, number, number, number];
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
}

/** The geometry of a TensorFlow 'same' or 'valid' window over an input of known size. */
export function windowGeometry(
  inHeight: number,
  inWidth: number,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
  padding: 'same' | 'valid',
): WindowGeometry {
  const span = (i: 0 | 1) => (kernel[i] - 1) * dilations[i] + 1;
  const sizes = [inHeight, inWidth];
  const out = [0, 1].map((i) =>
    padding === 'same' ? Math.ceil(sizes[i]! / strides[i]!) : Math.floor((sizes[i]! - span(i as 0 | 1)) / strides[i]!) + 1,
  ) as [number, number];
  const total = [0, 1].map((i) => (padding === 'same' ? Math.max((out[i]! - 1) * strides[i]! + span(i as 0 | 1) - sizes[i]!, 0) : 0));
  const before = total.map((t) => Math.floor(t / 2));
  return {
    kernel,
    strides,
    dilations,
    pads: [before[0]!, before[1]!, total[0]! - before[0]!, total[1]! - before[1]!],
    inHeight,
    inWidth,
    outHeight: out[0],
    outWidth: out[1],
  };
}

function attributes(geometry: WindowGeometry): Attribute[] {
  return [ints('kernel_shape', geometry.kernel), ints('strides', geometry.strides), ints('dilations', geometry.dilations), ints('pads', geometry.pads)];
}

const isPointwise = (geometry: WindowGeometry) =>
  geometry.kernel[0] === 1 && geometry.kernel[1] === 1 && geometry.pads.every((p) => p === 0);

/**
 * How the depthwise filter gradient is computed (all measured by the bench):
 * 'groupedConv' one convolution of the input by the output gradient with
 * N·C groups; 'taps' one Mul + ReduceSum per kernel tap; 'patches' the
 * taps as channels of one convolution with a constant one-hot kernel, then a
 * batched MatMul with the output gradient.
 */
export type DepthwiseFilterGradient = 'groupedConv' | 'taps' | 'patches';

/**
 * How a 1×1 stride-1 convolution (the pointwise half of a separable one) runs
 * forward and gives its input gradient: 'conv' a 1×1 Conv (the input gradient
 * with a transposed kernel); 'matmul' a MatMul of the [O, I] kernel with the
 * [N, I, H·W] maps (the input gradient with the kernel transposed inside the
 * MatMul, which ONNX Runtime fuses).
 */
export type PointwiseConv = 'conv' | 'matmul';

/** Formulation switches, for measuring alternatives. */
export interface ConvFormulation {
  depthwiseFilterGradient: DepthwiseFilterGradient;
  pointwise: PointwiseConv;
  /** See {@link ReluGradient}. */
  reluGradient: ReluGradient;
  /**
   * The max-pool input gradient: `'indices'`, MaxPool's Indices output scattered back with
   * ScatterElements (CPU provider only: the WebGPU provider has neither), or `'taps'`, strided tap
   * slices and a one-hot ConvTranspose (standard operators every provider runs).
   */
  maxPoolGradient: 'indices' | 'taps';
  /**
   * ONNX Runtime's NCHWc block on the machine that runs the graph, for a graph its CPU provider
   * alone runs: depthwise convolutions (forward and the stride-1 input gradient) then use its
   * `com.microsoft.nchwc` Conv (see {@link nchwcDepthwiseConv}); `null`: the standard Conv.
   */
  nchwcBlock: number | null;
}

export const DEFAULT_FORMULATION: ConvFormulation = { depthwiseFilterGradient: 'groupedConv', pointwise: 'conv', reluGradient: 'where', maxPoolGradient: 'taps', nchwcBlock: null };

/**
 * A convolution with one group: `kernel` is OIHW [out, in, kh, kw], `bias`
 * [out] or null. Input gradient: a 1×1 convolution with the transposed
 * kernel (pointwise, stride 1) or ConvTranspose; filter gradient: a batched
 * MatMul over the (strided) input (1×1) or a convolution of the input by
 * the output gradient with batch and channels swapped (k×k).
 */
export function conv2d(
  d: DifferentiableGraph,
  x: Value,
  kernel: Weight,
  bias: Weight | null,
  geometry: WindowGeometry,
  hint: string,
  pointwiseAs: PointwiseConv = DEFAULT_FORMULATION.pointwise,
): Value {
  const { g } = d;
  const [n] = x.shape as [number];
  const [outChannels, inChannels] = kernel.shape as [number, number];
  const outShape = [n, outChannels, geometry.outHeight, geometry.outWidth];
  const asMatMul = pointwiseAs === 'matmul' && isPointwise(geometry) && geometry.strides[0] === 1 && geometry.strides[1] === 1;
  const kernelMatrix = asMatMul ? g.op('Reshape', [kernel.name, g.int64s([outChannels, inChannels])], `${hint}/kernel_matrix`) : '';
  const pixelsOf = (value: string, channels: number, what: string) =>
    g.op('Reshape', [value, g.int64s([n, channels, geometry.outHeight * geometry.outWidth])], `${hint}/${what}_maps`);
  let forward: string;
  if (asMatMul) {
    const product = g.op('Reshape', [g.op('MatMul', [kernelMatrix, pixelsOf(x.name, inChannels, 'input')], `${hint}/matmul`), g.int64s(outShape)], `${hint}/matmul_nchw`);
    forward = bias ? g.op('Add', [product, g.op('Reshape', [bias.name, g.int64s([outChannels, 1, 1])], `${hint}/bias_b`)], hint) : product;
  } else {
    forward = g.op('Conv', [x.name, kernel.name, ...(bias ? [bias.name] : [])], hint, attributes(geometry));
  }
  const y: Value = { name: forward, shape: outShape };
  d.record(y, [x], [kernel, bias], (dy) => {
    if (bias?.trainable) d.setWeightGradient(bias, g.op('ReduceSum', [dy, g.int64s([0, 2, 3])], `${hint}/bias_grad`, [int('keepdims', 0)]));
    const pointwise = isPointwise(geometry);
    const strided = geometry.strides[0] !== 1 || geometry.strides[1] !== 1;
    if (kernel.trainable) {
      if (pointwise) {
        // dW[o, i] = Σ_n dy[n, o, :] · x[n, i, ::s]ᵀ
        const source = strided
          ? g.op('Slice', [x.name, g.int64s([0, 0]), g.int64s([x.shape[2]!, x.shape[3]!]), g.int64s([2, 3]), g.int64s(geometry.strides)], `${hint}/strided_input`)
          : x.name;
        const pixels = geometry.outHeight * geometry.outWidth;
        if (n * outChannels * inChannels > (outChannels + inChannels) * n * pixels) {
          // Small maps, wide layers (middle and exit flow): per-image products would be larger
          // than the maps, so bring the batch next to the pixels and make it one Gemm.
          const rows = (value: string, channels: number, what: string) =>
            g.op('Reshape', [g.op('Transpose', [value], `${hint}/${what}_cnhw`, [ints('perm', [1, 0, 2, 3])]), g.int64s([channels, n * pixels])], `${hint}/${what}_rows`);
          const summed = g.op('Gemm', [rows(dy, outChannels, 'dy'), rows(source, inChannels, 'input')], `${hint}/kernel_grad_gemm`, [int('transB', 1)]);
          d.setWeightGradient(kernel, g.op('Reshape', [summed, g.int64s(kernel.shape)], `${hint}/kernel_grad`));
        } else {
          const xs = g.op('Reshape', [source, g.int64s([n, inChannels, pixels])], `${hint}/input_rows`);
          const dys = g.op('Reshape', [dy, g.int64s([n, outChannels, pixels])], `${hint}/dy_rows`);
          const xt = g.op('Transpose', [xs], `${hint}/input_cols`, [ints('perm', [0, 2, 1])]);
          const perImage = g.op('MatMul', [dys, xt], `${hint}/kernel_grad_per_image`);
          const summed = g.op('ReduceSum', [perImage, g.int64s([0])], `${hint}/kernel_grad_sum`, [int('keepdims', 0)]);
          d.setWeightGradient(kernel, g.op('Reshape', [summed, g.int64s(kernel.shape)], `${hint}/kernel_grad`));
        }
      } else {
        d.setWeightGradient(kernel, swappedRoleFilterGradient(d, x, dy, geometry, 1, hint));
      }
    }
    if (d.needsGradient(x)) {
      if (asMatMul) {
        const transposed = g.op('Transpose', [kernelMatrix], `${hint}/kernel_t`, [ints('perm', [1, 0])]);
        const product = g.op('MatMul', [transposed, pixelsOf(dy, outChannels, 'dy')], `${hint}/input_grad_matmul`);
        d.addGradient(x, g.op('Reshape', [product, g.int64s(x.shape)], `${hint}/input_grad`));
      } else if (pointwise && !strided) {
        const transposed = g.op('Transpose', [kernel.name], `${hint}/kernel_t`, [ints('perm', [1, 0, 2, 3])]);
        d.addGradient(x, g.op('Conv', [dy, transposed], `${hint}/input_grad`, [ints('kernel_shape', [1, 1])]));
      } else {
        d.addGradient(x, transposedConv(d, dy, kernel.name, geometry, 1, hint));
      }
    }
  });
  return y;
}

/**
 * A depthwise convolution (multiplier 1): `kernel` is [C, 1, kh, kw].
 * Input gradient at stride 1: the same depthwise convolution with the
 * flipped kernel (the forward's fast kernel); at stride > 1 a grouped
 * ConvTranspose. Filter gradient: see {@link DepthwiseFilterGradient}.
 */
export function depthwiseConv2d(
  d: DifferentiableGraph,
  x: Value,
  kernel: Weight,
  bias: Weight | null,
  geometry: WindowGeometry,
  hint: string,
  formulation: ConvFormulation,
): Value {
  const { g } = d;
  const [n, channels] = x.shape as [number, number];
  const group = int('group', channels);
  const nchwc = formulation.nchwcBlock !== null && nchwcTakes(channels, geometry.strides, geometry.dilations) ? formulation.nchwcBlock : null;
  const convolved = nchwc
    ? nchwcDepthwiseConv(g, x.name, kernel.name, channels, geometry.kernel, geometry.pads, nchwc, hint)
    : g.op('Conv', [x.name, kernel.name, ...(bias ? [bias.name] : [])], hint, [...attributes(geometry), group]);
  const y: Value = {
    name: nchwc && bias ? g.op('Add', [convolved, g.op('Reshape', [bias.name, g.int64s([channels, 1, 1])], `${hint}/bias_b`)], `${hint}/biased`) : convolved,
    shape: [n, channels, geometry.outHeight, geometry.outWidth],
  };
  d.record(y, [x], [kernel, bias], (dy) => {
    if (bias?.trainable) d.setWeightGradient(bias, g.op('ReduceSum', [dy, g.int64s([0, 2, 3])], `${hint}/bias_grad`, [int('keepdims', 0)]));
    if (kernel.trainable) {
      d.setWeightGradient(
        kernel,
        formulation.depthwiseFilterGradient === 'taps'
          ? depthwiseFilterGradientByTaps(d, x, dy, geometry, hint)
          : formulation.depthwiseFilterGradient === 'patches'
            ? depthwiseFilterGradientByPatches(d, x, dy, geometry, hint)
            : swappedRoleFilterGradient(d, x, dy, geometry, channels, hint),
      );
    }
    if (d.needsGradient(x)) {
      const stride1 = geometry.strides[0] === 1 && geometry.strides[1] === 1;
      if (stride1) {
        const flipped = g.op(
          'Slice',
          [kernel.name, g.int64s([-1, -1]), g.int64s([-(2 ** 62), -(2 ** 62)]), g.int64s([2, 3]), g.int64s([-1, -1])],
          `${hint}/kernel_flipped`,
        );
        const span = (i: 0 | 1) => (geometry.kernel[i] - 1) * geometry.dilations[i] + 1;
        const [top, left, bottom, right] = geometry.pads;
        const pads = [span(0) - 1 - top, span(1) - 1 - left, span(0) - 1 - bottom, span(1) - 1 - right];
        d.addGradient(
          x,
          nchwc
            ? nchwcDepthwiseConv(g, dy, flipped, channels, geometry.kernel, pads, nchwc, `${hint}/input_grad`)
            : g.op('Conv', [dy, flipped], `${hint}/input_grad`, [
                ints('kernel_shape', geometry.kernel),
                ints('dilations', geometry.dilations),
                ints('pads', pads),
                group,
              ]),
        );
      } else {
        d.addGradient(x, transposedConv(d, dy, kernel.name, geometry, channels, hint));
      }
    }
  });
  return y;
}

/** dx of a (grouped) convolution as ConvTranspose, with output_padding restoring the input size. */
export function transposedConv(d: DifferentiableGraph, dy: string, kernel: string, geometry: WindowGeometry, groups: number, hint: string): string {
  const [top, left, bottom, right] = geometry.pads;
  const rebuilt = (i: 0 | 1) =>
    geometry.strides[i] * ((i === 0 ? geometry.outHeight : geometry.outWidth) - 1) + (geometry.kernel[i] - 1) * geometry.dilations[i] + 1 - (i === 0 ? top + bottom : left + right);
  const outputPadding = [geometry.inHeight - rebuilt(0), geometry.inWidth - rebuilt(1)];
  return d.g.op('ConvTranspose', [dy, kernel], `${hint}/input_grad`, [
    ints('kernel_shape', geometry.kernel),
    ints('strides', geometry.strides),
    ints('dilations', geometry.dilations),
    ints('pads', geometry.pads),
    ints('output_padding', outputPadding),
    int('group', groups),
  ]);
}

/**
 * dW[o, i, a, b] = Σ_{n,y,x} dy[n, o, y, x] · xpad[n, i, y·s + a·d, x·s + b·d]:
 * a convolution of the input (batch and channels swapped) by the output
 * gradient, stride and dilation swapped. For a depthwise kernel (`groups` =
 * channels) the batch is folded into the groups and summed afterwards.
 */
function swappedRoleFilterGradient(d: DifferentiableGraph, x: Value, dy: string, geometry: WindowGeometry, groups: number, hint: string): string {
  const { g } = d;
  const [n, inChannels, height, width] = x.shape as [number, number, number, number];
  const { outHeight, outWidth, kernel } = geometry;
  const attrs = (group: number) => [
    ints('kernel_shape', [outHeight, outWidth]),
    ints('strides', geometry.dilations),
    ints('dilations', geometry.strides),
    ints('pads', geometry.pads),
    int('group', group),
  ];
  const [top, left, bottom, right] = geometry.pads;
  const full = (size: number, pad: number, out: number, s: number, dil: number) => Math.floor((size + pad - ((out - 1) * s + 1)) / dil) + 1;
  const fullH = full(height, top + bottom, outHeight, geometry.strides[0], geometry.dilations[0]);
  const fullW = full(width, left + right, outWidth, geometry.strides[1], geometry.dilations[1]);
  let grad: string;
  if (groups === 1) {
    const xt = g.op('Transpose', [x.name], `${hint}/input_cnhw`, [ints('perm', [1, 0, 2, 3])]);
    const dyt = g.op('Transpose', [dy], `${hint}/dy_cnhw`, [ints('perm', [1, 0, 2, 3])]);
    const conv = g.op('Conv', [xt, dyt], `${hint}/kernel_grad_io`, attrs(1)); // [in, out, fullH, fullW]
    grad = g.op('Transpose', [conv], `${hint}/kernel_grad_full`, [ints('perm', [1, 0, 2, 3])]);
  } else {
    const xr = g.op('Reshape', [x.name, g.int64s([1, n * inChannels, height, width])], `${hint}/input_groups`);
    const dyr = g.op('Reshape', [dy, g.int64s([n * inChannels, 1, outHeight, outWidth])], `${hint}/dy_groups`);
    const conv = g.op('Conv', [xr, dyr], `${hint}/kernel_grad_groups`, attrs(n * inChannels)); // [1, n·C, fullH, fullW]
    const split = g.op('Reshape', [conv, g.int64s([n, inChannels, 1, fullH, fullW])], `${hint}/kernel_grad_per_image`);
    grad = g.op('ReduceSum', [split, g.int64s([0])], `${hint}/kernel_grad_full`, [int('keepdims', 0)]); // [C, 1, fullH, fullW]
  }
  if (fullH === kernel[0] && fullW === kernel[1]) return grad;
  return g.op('Slice', [grad, g.int64s([0, 0]), g.int64s(kernel), g.int64s([2, 3])], `${hint}/kernel_grad`);
}

/** The depthwise filter gradient as one Mul and ReduceSum per kernel tap over a shifted view of the input. */
function depthwiseFilterGradientByTaps(d: DifferentiableGraph, x: Value, dy: string, geometry: WindowGeometry, hint: string): string {
  const { g } = d;
  const channels = x.shape[1]!;
  const [top, left, bottom, right] = geometry.pads;
  const padded = geometry.pads.some((p) => p > 0)
    ? g.op('Pad', [x.name, g.int64s([0, 0, top, left, 0, 0, bottom, right])], `${hint}/input_padded`)
    : x.name;
  const taps: string[] = [];
  for (let a = 0; a < geometry.kernel[0]; a++) {
    for (let b = 0; b < geometry.kernel[1]; b++) {
      const starts = [a * geometry.dilations[0], b * geometry.dilations[1]];
      const ends = [starts[0]! + (geometry.outHeight - 1) * geometry.strides[0] + 1, starts[1]! + (geometry.outWidth - 1) * geometry.strides[1] + 1];
      const view = g.op('Slice', [padded, g.int64s(starts), g.int64s(ends), g.int64s([2, 3]), g.int64s(geometry.strides)], `${hint}/tap${a}${b}`);
      const product = g.op('Mul', [view, dy], `${hint}/tap${a}${b}_product`);
      taps.push(g.op('ReduceSum', [product, g.int64s([0, 2, 3])], `${hint}/tap${a}${b}_sum`, [int('keepdims', 0)]));
    }
  }
  const unsqueezed = taps.map((t) => g.op('Unsqueeze', [t, g.int64s([1])], `${t}_col`));
  const stacked = g.op('Concat', unsqueezed, `${hint}/kernel_grad_taps`, [int('axis', 1)]);
  return g.op('Reshape', [stacked, g.int64s([channels, 1, geometry.kernel[0], geometry.kernel[1]])], `${hint}/kernel_grad`);
}

/** The depthwise filter gradient from the input's patches (a constant one-hot convolution) and a batched MatMul. */
function depthwiseFilterGradientByPatches(d: DifferentiableGraph, x: Value, dy: string, geometry: WindowGeometry, hint: string): string {
  const { g } = d;
  const [n, channels, height, width] = x.shape as [number, number, number, number];
  const [kh, kw] = geometry.kernel;
  const taps = kh * kw;
  const pixels = geometry.outHeight * geometry.outWidth;
  const oneHot = new Float32Array(taps * taps);
  for (let t = 0; t < taps; t++) oneHot[t * taps + t] = 1;
  const identity = g.floats(oneHot, [taps, 1, kh, kw], `${hint}/tap_selector`);
  const planes = g.op('Reshape', [x.name, g.int64s([n * channels, 1, height, width])], `${hint}/input_planes`);
  const patches = g.op('Conv', [planes, identity], `${hint}/patches`, attributes(geometry)); // [N·C, taps, Ho, Wo]
  const patchRows = g.op('Reshape', [patches, g.int64s([n, channels, taps, pixels])], `${hint}/patch_rows`);
  const dyColumn = g.op('Reshape', [dy, g.int64s([n, channels, pixels, 1])], `${hint}/dy_column`);
  const perImage = g.op('MatMul', [patchRows, dyColumn], `${hint}/kernel_grad_per_image`); // [N, C, taps, 1]
  const summed = g.op('ReduceSum', [perImage, g.int64s([0])], `${hint}/kernel_grad_sum`, [int('keepdims', 0)]);
  return g.op('Reshape', [summed, g.int64s([channels, 1, kh, kw])], `${hint}/kernel_grad`);
}
