/** mulberry32: a small seeded generator of uniform numbers in [0, 1). @internal */
export function seededRandom(seed: number): () => number {
  let a = Math.floor(seed) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keep masks: 0 with probability `rate`, else 1 / (1 − rate) (inverted dropout, as Keras). @internal */
export function dropoutMask(dims: number[], rate: number, random: () => number): Float32Array {
  const mask = new Float32Array(dims.reduce((a, b) => a * b, 1));
  const keep = 1 / (1 - rate);
  for (let i = 0; i < mask.length; i++) mask[i] = random() < rate ? 0 : keep;
  return mask;
}

/** Fisher–Yates shuffle driven by `random`. @internal */
export function shuffleInPlace(order: number[], random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
}
