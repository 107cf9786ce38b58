// A Keras 1.2-era full-model file (model.save('x.h5') in Keras 1), written
// without Python from Keras 1's formats: a 'Model' config with Keras 1 class
// and argument names (Convolution2D, nb_filter, border_mode, subsample,
// Merge(mode='sum'), Dropout(p), Dense(output_dim), BatchNormalization(mode=0)),
// 3-element inbound node references, and weights in the Keras 1 layout
// (`<layer>_W:0`, `running_std` holding the variance) under /model_weights.
import h5wasm from 'h5wasm';
import * as tf from '@tensorflow/tfjs';

const NULLS = { W_regularizer: null, b_regularizer: null, activity_regularizer: null, W_constraint: null, b_constraint: null };

/** The Keras 1 config of the model {@link keras1Reference} builds in tfjs. */
export const KERAS1_CONFIG = {
  class_name: 'Model',
  config: {
    name: 'model_1',
    layers: [
      { class_name: 'InputLayer', name: 'input_1', config: { batch_input_shape: [null, 16, 16, 3], input_dtype: 'float32', sparse: false, name: 'input_1' }, inbound_nodes: [] },
      {
        class_name: 'Convolution2D', name: 'convolution2d_1',
        config: { name: 'convolution2d_1', trainable: true, nb_filter: 4, nb_row: 3, nb_col: 3, init: 'glorot_uniform', activation: 'linear', border_mode: 'same', subsample: [1, 1], dim_ordering: 'tf', bias: true, ...NULLS },
        inbound_nodes: [[['input_1', 0, 0]]],
      },
      {
        class_name: 'BatchNormalization', name: 'batchnormalization_1',
        config: { name: 'batchnormalization_1', trainable: true, epsilon: 0.001, mode: 0, axis: -1, gamma_regularizer: null, beta_regularizer: null, momentum: 0.99 },
        inbound_nodes: [[['convolution2d_1', 0, 0]]],
      },
      { class_name: 'Activation', name: 'activation_1', config: { name: 'activation_1', trainable: true, activation: 'relu' }, inbound_nodes: [[['batchnormalization_1', 0, 0]]] },
      {
        class_name: 'MaxPooling2D', name: 'maxpooling2d_1',
        config: { name: 'maxpooling2d_1', trainable: true, pool_size: [2, 2], strides: [2, 2], border_mode: 'valid', dim_ordering: 'tf' },
        inbound_nodes: [[['activation_1', 0, 0]]],
      },
      {
        class_name: 'SeparableConvolution2D', name: 'separableconvolution2d_1',
        config: {
          name: 'separableconvolution2d_1', trainable: true, nb_filter: 4, nb_row: 3, nb_col: 3, init: 'glorot_uniform', activation: 'linear',
          border_mode: 'same', subsample: [1, 1], depth_multiplier: 1, dim_ordering: 'tf', bias: false,
          depthwise_regularizer: null, pointwise_regularizer: null, b_regularizer: null, activity_regularizer: null,
          depthwise_constraint: null, pointwise_constraint: null, b_constraint: null,
        },
        inbound_nodes: [[['maxpooling2d_1', 0, 0]]],
      },
      {
        class_name: 'Merge', name: 'merge_1',
        config: { name: 'merge_1', mode: 'sum', concat_axis: -1, dot_axes: -1, mode_type: 'raw', output_shape: null, output_shape_type: 'raw', output_mask: null, output_mask_type: 'raw', arguments: {} },
        inbound_nodes: [[['maxpooling2d_1', 0, 0], ['separableconvolution2d_1', 0, 0]]],
      },
      { class_name: 'Flatten', name: 'flatten_1', config: { name: 'flatten_1', trainable: true }, inbound_nodes: [[['merge_1', 0, 0]]] },
      { class_name: 'Dropout', name: 'dropout_1', config: { name: 'dropout_1', trainable: true, p: 0.5 }, inbound_nodes: [[['flatten_1', 0, 0]]] },
      {
        class_name: 'Dense', name: 'dense_1',
        config: { name: 'dense_1', trainable: true, output_dim: 3, init: 'glorot_uniform', activation: 'softmax', bias: true, input_dim: null, ...NULLS },
        inbound_nodes: [[['dropout_1', 0, 0]]],
      },
    ],
    input_layers: [['input_1', 0, 0]],
    output_layers: [['dense_1', 0, 0]],
  },
};

/** The same network built with tfjs, random weights (BN statistics included). */
export function keras1Reference(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ epsilon: 0.001 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  const pooled = tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  const sep = tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(pooled) as tf.SymbolicTensor;
  x = tf.layers.add().apply([pooled, sep]) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: 0.5 }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  model.setWeights(model.weights.map((w, i) =>
    tf.tidy(() => (w.originalName.endsWith('moving_variance')
      ? tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', 40 + i)
      : tf.randomNormal(w.shape as number[], 0, 0.5, 'float32', 40 + i)))));
  return model;
}

const KERAS1_WEIGHTS: Record<string, string[]> = {
  convolution2d_1: ['W', 'b'],
  batchnormalization_1: ['gamma', 'beta', 'running_mean', 'running_std'],
  separableconvolution2d_1: ['depthwise_kernel', 'pointwise_kernel'],
  dense_1: ['W', 'b'],
};

/** Writes the Keras 1 full-model file, with the reference model's weights paired by order. */
export async function writeKeras1ModelFile(reference: tf.LayersModel, config: unknown = KERAS1_CONFIG): Promise<Uint8Array> {
  const { FS } = await h5wasm.ready;
  const path = `/keras1-${Math.random().toString(36).slice(2)}.h5`;
  const file = new h5wasm.File(path, 'w');
  try {
    const fixed = (values: string[]) => `S${Math.max(...values.map((v) => v.length)) + 2}`;
    file.create_attribute('keras_version', '1.2.2', null, 'S6');
    file.create_attribute('model_config', JSON.stringify(config));
    const root = file.create_group('model_weights');
    const names = KERAS1_CONFIG.config.layers.map((l) => l.name);
    root.create_attribute('layer_names', names, null, fixed(names));
    const withWeights = reference.layers.filter((l) => l.weights.length > 0);
    let next = 0;
    for (const name of names) {
      const group = root.create_group(name);
      const short = KERAS1_WEIGHTS[name];
      if (!short) {
        group.create_attribute('weight_names', new Float64Array(0), [0], '<d');
        continue;
      }
      const values = withWeights[next++]!.getWeights();
      const weightNames = short.map((s) => `${name}_${s}:0`);
      group.create_attribute('weight_names', weightNames, null, fixed(weightNames));
      weightNames.forEach((weightName, i) => {
        group.create_dataset({ name: weightName, data: values[i]!.dataSync() as Float32Array, shape: values[i]!.shape, dtype: '<f' });
      });
    }
  } finally {
    file.close();
  }
  const bytes = (FS.readFile(path) as Uint8Array).slice();
  FS.unlink(path);
  return bytes;
}
