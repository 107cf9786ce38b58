import * as tf from '@tensorflow/tfjs';

/**
 * A depthwise kernel `[kh, kw, c, m]` dilated by `[dh, dw]`, written out with zeros between its
 * taps: an undilated convolution with it computes the dilated one, and tfjs has its gradient.
 */
export function zeroInserted(kernel: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, c, m] = kernel.shape;
  const spread = tf.pad(tf.reshape(kernel, [kh, 1, kw, 1, c, m]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
  return tf.slice(tf.reshape(spread, [kh * dh, kw * dw, c, m]), [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, c, m]) as tf.Tensor4D;
}
