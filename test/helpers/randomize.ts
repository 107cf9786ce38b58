import * as tf from '@tensorflow/tfjs';

/** Random weights with BN statistics far from the identity, so that folding is really exercised. */
export function randomize(model: tf.LayersModel): void {
  tf.tidy(() => model.setWeights(model.weights.map((w, i) => {
    const name = w.originalName;
    const shape = w.shape as number[];
    if (name.endsWith('moving_variance')) return tf.randomUniform(shape, 0.2, 3, 'float32', i);
    if (name.endsWith('moving_mean') || name.endsWith('beta')) return tf.randomNormal(shape, 0, 0.5, 'float32', i);
    if (name.endsWith('gamma')) return tf.randomUniform(shape, 0.5, 1.5, 'float32', i);
    return tf.randomNormal(shape, 0, Math.sqrt(2 / shape.slice(0, -1).reduce((a, b) => a * b, 1)), 'float32', i);
  })));
}

/**
 * Random weights as {@link randomize} draws them (BN statistics far
 * from the identity), but every tensor seeded: randomize() seeds the first
 * weight with 0, which tfjs treats as "no seed".
 */
export function randomizeSeeded(model: tf.LayersModel, seed = 1): void {
  tf.tidy(() => model.setWeights(model.weights.map((w, i) => {
    const name = w.originalName;
    const shape = w.shape as number[];
    const s = seed * 100_000 + i + 1;
    if (name.endsWith('moving_variance')) return tf.randomUniform(shape, 0.2, 3, 'float32', s);
    if (name.endsWith('moving_mean') || name.endsWith('beta')) return tf.randomNormal(shape, 0, 0.5, 'float32', s);
    if (name.endsWith('gamma')) return tf.randomUniform(shape, 0.5, 1.5, 'float32', s);
    return tf.randomNormal(shape, 0, Math.sqrt(2 / shape.slice(0, -1).reduce((a, b) => a * b, 1)), 'float32', s);
  })));
}
