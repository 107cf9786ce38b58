import type { XceptionPresetName } from '../model/presets.js';

/**
 * Where a preset's ImageNet weights come from and how they were evaluated:
 * the data `createXception({ preset, weights: 'imagenet' })`,
 * `preprocessInput` and `createOnnxClassifier` use.
 *
 * @example
 * ```ts
 * import { PRETRAINED_CONFIGS } from 'xception-ts';
 *
 * const { tag, top1, cropPct } = PRETRAINED_CONFIGS.xception65; // 'xception65.ra3_in1k', 83.19, 0.94
 * ```
 * @category Weights
 */
export interface PretrainedConfig {
  /** `'keras-h5'`: Keras Applications' HDF5 files; `'timm-safetensors'`: a timm checkpoint on the Hugging Face hub. */
  readonly format: 'keras-h5' | 'timm-safetensors';
  /** timm's name for the weights (`<model>.<tag>`), the hub repository `timm/<tag>`. */
  readonly tag: string;
  /** The evaluation input, `[height, width, channels]`. */
  readonly inputSize: readonly [number, number, number];
  /**
   * timm's eval transform: resize the shorter side to `inputSize / cropPct`,
   * then center-crop `inputSize`.
   */
  readonly cropPct: number;
  /** Resampling of that resize. */
  readonly interpolation: 'bicubic' | 'bilinear';
  /** Per-channel mean of pixels in [0, 1]: the input is `(x / 255 - mean) / std`. */
  readonly mean: readonly [number, number, number];
  /** Per-channel standard deviation, as `mean`. */
  readonly std: readonly [number, number, number];
  /** ImageNet-1k top-1 accuracy (%) at `inputSize`, as published (timm's results-imagenet.csv, Keras' docs). */
  readonly top1: number;
  /** The weights' licence, as their publisher states it. */
  readonly license: string;
  /** Where the weights and their description are published. */
  readonly source: string;
  /**
   * The file's SHA-256 where the publisher lists it, checked on download;
   * `null`: none known here (the file is then checked by size and header only).
   */
  readonly sha256: string | null;
}

const TF_MEAN = Object.freeze([0.5, 0.5, 0.5] as const);

function timm(tag: string, top1: number, cropPct: number, sha256: string | null = null): PretrainedConfig {
  return Object.freeze({
    format: 'timm-safetensors',
    tag,
    inputSize: Object.freeze([299, 299, 3] as const),
    cropPct,
    interpolation: 'bicubic',
    mean: TF_MEAN,
    std: TF_MEAN,
    top1,
    license: 'apache-2.0',
    source: `https://huggingface.co/timm/${tag}`,
    sha256,
  });
}

/**
 * The ImageNet weights of every preset, as data: the best published tag per
 * preset. xception65 takes `ra3_in1k` (83.19 %, trained in timm with the RA3
 * recipe) over `tf_in1k` (79.56 %, DeepLab's TensorFlow weights); xception41
 * and xception71 have only `tf_in1k`; 41p and 65p only `ra3_in1k`. `keras`
 * keeps Keras Applications' own file (timm's `legacy_xception.tf_in1k` is the
 * same weights; its eval transform is given). All use Keras' 'tf'
 * normalization (mean = std = 0.5). Where the file's SHA-256 is known
 * (`xception41p`), a download is checked against it.
 *
 * | preset | weights | top-1 | crop |
 * | --- | --- | ---: | ---: |
 * | `keras` | Keras Applications' file (timm: `legacy_xception.tf_in1k`) | 79.06 | 0.8975 |
 * | `postact` | none (the course variant was never trained on ImageNet) | | |
 * | `xception41` | `xception41.tf_in1k` | 78.55 | 0.903 |
 * | `xception65` | `xception65.ra3_in1k` | 83.19 | 0.94 |
 * | `xception71` | `xception71.tf_in1k` | 79.92 | 0.903 |
 * | `xception41p` | `xception41p.ra3_in1k` | 81.98 | 0.94 |
 * | `xception65p` | `xception65p.ra3_in1k` | 83.16 | 0.94 |
 *
 * @example
 * ```ts
 * import { PRETRAINED_CONFIGS } from 'xception-ts';
 *
 * for (const [preset, c] of Object.entries(PRETRAINED_CONFIGS)) console.log(preset, c?.tag, c?.top1);
 * ```
 * @category Weights
 */
export const PRETRAINED_CONFIGS: Readonly<Partial<Record<XceptionPresetName, PretrainedConfig>>> = Object.freeze({
  keras: Object.freeze({
    format: 'keras-h5',
    tag: 'legacy_xception.tf_in1k',
    inputSize: Object.freeze([299, 299, 3] as const),
    cropPct: 0.8975,
    interpolation: 'bicubic',
    mean: TF_MEAN,
    std: TF_MEAN,
    top1: 79.06,
    license: 'MIT (keras-applications)',
    source: 'https://storage.googleapis.com/tensorflow/keras-applications/xception/',
    sha256: null,
  } satisfies PretrainedConfig),
  xception41: timm('xception41.tf_in1k', 78.55, 0.903),
  xception65: timm('xception65.ra3_in1k', 83.19, 0.94),
  xception71: timm('xception71.tf_in1k', 79.92, 0.903),
  // model.safetensors, 108 MB, SHA-256 as the file's page on the Hugging Face hub lists it.
  xception41p: timm('xception41p.ra3_in1k', 81.98, 0.94, '84cc7268d4d0973769ac78db2c1d07e5bbfbcab2447d6f1df3f7b755ba7b2dea'),
  xception65p: timm('xception65p.ra3_in1k', 83.16, 0.94),
});

/** Where timm checkpoints are downloaded from: `<base>/<tag>/resolve/main/model.safetensors`. @internal */
export const TIMM_HUB_BASE_URL = 'https://huggingface.co/timm/';

/** The download URL of a timm checkpoint. @internal */
export function timmCheckpointUrl(tag: string, baseUrl = TIMM_HUB_BASE_URL): string {
  return `${baseUrl.replace(/\/?$/, '/')}${tag}/resolve/main/model.safetensors`;
}
