import type { ChecksummedWeights } from './download-verified.js';

/** Where Keras Applications publishes its weights (Google Cloud Storage). @internal */
export const KERAS_WEIGHTS_BASE_URL = 'https://storage.googleapis.com/tensorflow/keras-applications/xception/';

/** The official ImageNet Xception files and their published MD5s (Keras Applications). @internal */
export const IMAGENET_FILES = {
  top: { file: 'xception_weights_tf_dim_ordering_tf_kernels.h5', md5: '0a58e3b7378bc2990ea3b43d5981f1f6' },
  noTop: { file: 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5', md5: 'b0042744bf5b25fce3cb969f33bebb97' },
} as const;

/**
 * The default `maxBytes` of an `'imagenet'` download: 128 MiB, above the
 * official files (about 88 MB with the top, 80 MB without) with room to spare.
 * @internal
 */
export const IMAGENET_MAX_BYTES = 128 * 2 ** 20;

/** The file to download for a model with or without the top. @internal */
export function imagenetWeights(includeTop: boolean, baseUrl = KERAS_WEIGHTS_BASE_URL): ChecksummedWeights {
  const { file, md5 } = includeTop ? IMAGENET_FILES.top : IMAGENET_FILES.noTop;
  return { url: `${baseUrl.replace(/\/?$/, '/')}${file}`, md5 };
}
