// Loss and accuracy of logits against labels, computed in JavaScript from the graph's outputs.

/** The class of a label row: the id (sparse) or the arg-max of the one-hot row. */
function labelOf(labels: Float32Array | BigInt64Array, row: number, classes: number): number {
  if (labels instanceof BigInt64Array) return Number(labels[row]);
  let best = 0;
  for (let c = 1; c < classes; c++) if (labels[row * classes + c]! > labels[row * classes + best]!) best = c;
  return best;
}

/** How many of `count` rows have their largest logit at the label's class. @internal */
export function countCorrect(logits: Float32Array, labels: Float32Array | BigInt64Array, count: number, classes: number): number {
  let correct = 0;
  for (let row = 0; row < count; row++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[row * classes + c]! > logits[row * classes + best]!) best = c;
    if (best === labelOf(labels, row, classes)) correct++;
  }
  return correct;
}

/** Σ over rows of the cross-entropy of softmax(logits) against the (smoothed) targets. @internal */
export function crossEntropySum(logits: Float32Array, labels: Float32Array | BigInt64Array, count: number, classes: number, smoothing: number): number {
  const sparse = labels instanceof BigInt64Array;
  let sum = 0;
  for (let row = 0; row < count; row++) {
    const z = logits.subarray(row * classes, (row + 1) * classes);
    const max = Math.max(...z);
    let norm = 0;
    for (let c = 0; c < classes; c++) norm += Math.exp(z[c]! - max);
    const logNorm = Math.log(norm) + max;
    for (let c = 0; c < classes; c++) {
      const target = sparse ? (Number(labels[row]) === c ? 1 : 0) : labels[row * classes + c]!;
      const smoothed = (1 - smoothing) * target + smoothing / classes;
      if (smoothed !== 0) sum -= smoothed * (z[c]! - logNorm);
    }
  }
  return sum;
}

/** Softmax of each row of `classes` logits. @internal */
export function softmaxRows(logits: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let row = 0; row < logits.length / classes; row++) {
    const z = logits.subarray(row * classes, (row + 1) * classes);
    const max = Math.max(...z);
    let norm = 0;
    for (let c = 0; c < classes; c++) norm += (out[row * classes + c] = Math.exp(z[c]! - max));
    for (let c = 0; c < classes; c++) out[row * classes + c]! /= norm;
  }
  return out;
}
