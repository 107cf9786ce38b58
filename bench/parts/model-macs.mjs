// Multiply-adds of one image through a tfjs-layers model, from its layers' shapes (Conv2D,
// SeparableConv2D's depthwise and pointwise halves, Dense): the FLOP count (2 per multiply-add)
// that bench rows divide by the machine's measured SGEMM rate (bench/parts/sgemm-peak.mjs).

/** Multiply-adds of one image through `model`'s Conv2D, SeparableConv2D and Dense layers. */
export function multiplyAdds(model, { only } = {}) {
  let macs = 0;
  for (const layer of model.layers) {
    if (only && !only(layer)) continue;
    const out = layer.outputShape;
    const kernels = Object.fromEntries(layer.weights.map((w) => [w.originalName.split('/').at(-1), w.shape]));
    const cls = layer.getClassName();
    const size = (shape) => shape.reduce((a, b) => a * b, 1);
    if (cls === 'Conv2D') macs += out[1] * out[2] * size(kernels.kernel);
    if (cls === 'SeparableConv2D') macs += out[1] * out[2] * (size(kernels.depthwise_kernel) + size(kernels.pointwise_kernel));
    if (cls === 'Dense') macs += kernels.kernel[0] * kernels.kernel[1];
  }
  return macs;
}
