/*
 * `xception-ts train`'s flags as settings, checked before anything is read.
 */
import { listPresets, type XceptionPresetName } from '../src/index.js';
import { UsageError } from './cli-errors.js';
import { integerFlag, oneOfFlag, presetFlag, type CliFlags } from './flags.js';
import { TRAIN_DEVICES, type TrainDevice } from './train-device.js';

/** What `train` was asked to do. */
export interface TrainSettings {
  /** The folder, or the IDX folder after `idx:`. */
  source: { kind: 'folder' | 'idx'; path: string };
  preset: XceptionPresetName;
  inputSize: number;
  channels: 1 | 3;
  /** --classes, to check against the data. */
  classes: number | undefined;
  epochs: number;
  batchSize: number;
  lr: number;
  schedule: 'constant' | 'cosine';
  /** 'imagenet', a Keras weights file, or undefined (random). */
  weights: string | undefined;
  freezeBackbone: boolean;
  fineTuneEpochs: number;
  device: TrainDevice;
  out: string;
  resume: boolean;
  overwrite: boolean;
  validationSplit: number;
  seed: number;
  augment: boolean;
  skipBadFiles: boolean;
  maxFiles: number | undefined;
  maxImages: number | undefined;
  /** BatchNormalization's momentum, or 'auto' (see {@link batchNormMomentum}). */
  bnMomentum: number | 'auto';
}

/**
 * `--bn-momentum auto`: 1 − 10/steps of the run, between 0.9 and Keras' 0.99 (the rule of
 * examples/node-training). Validation runs BatchNormalization on its moving statistics, an
 * average over the last ~1/(1 − momentum) steps that starts at mean 0, variance 1: at 0.99 they
 * need several hundred steps to leave those values, and until then validation scores chance
 * however well training goes; auto keeps that memory to a tenth of the run.
 */
export function batchNormMomentum(settings: TrainSettings, stepsPerEpoch: number): number {
  if (settings.bnMomentum !== 'auto') return settings.bnMomentum;
  const steps = (settings.epochs + settings.fineTuneEpochs) * stepsPerEpoch;
  return Math.min(0.99, Math.max(0.9, Number((1 - 10 / steps).toFixed(3))));
}

/** `--name` as a number in [min, max] (or (min, max] with `exclusiveMin`). */
export function numberFlag(name: string, raw: string, min: number, max: number, exclusiveMin = false): number {
  const value = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(raw) ? Number(raw) : Number.NaN;
  if (!(Number.isFinite(value) && (exclusiveMin ? value > min : value >= min) && value <= max)) {
    throw new UsageError(`--${name} must be a number ${exclusiveMin ? 'above' : 'from'} ${min} ${exclusiveMin ? 'up ' : ''}to ${max}; got ${JSON.stringify(raw)}.`, 'train');
  }
  return value;
}

/** The settings of `train <source>` from its flags. */
export function trainSettings(source: string, values: CliFlags): TrainSettings {
  const string = (name: string) => values[name] as string | undefined;
  const idx = source.startsWith('idx:');
  const path = idx ? source.slice(4) : source;
  if (path === '') throw new UsageError('train idx:DIR needs the folder after idx:, e.g. idx:/usr/share/datasets/fashion-mnist.', 'train');
  const weights = string('weights') === 'none' ? undefined : string('weights');
  const freezeBackbone = values['freeze-backbone'] === true;
  const fineTuneEpochs = string('fine-tune-epochs') === undefined ? 0 : integerFlag('fine-tune-epochs', string('fine-tune-epochs')!, 0, 10_000);
  if (freezeBackbone && weights === undefined) throw new UsageError('--freeze-backbone needs --weights (imagenet or a file): a frozen random backbone learns nothing.', 'train');
  if (fineTuneEpochs > 0 && !freezeBackbone) throw new UsageError('--fine-tune-epochs needs --freeze-backbone: it unfreezes the backbone once the head has trained.', 'train');
  if (values.resume && values.overwrite) throw new UsageError('--resume continues the run in --out and --overwrite starts a new one there; pass one of them.', 'train');
  const notFor = idx ? ['validation-split', 'skip-bad-files', 'max-files'] : ['max-images'];
  const stray = notFor.filter((flag) => values[flag] !== undefined);
  if (stray.length) {
    throw new UsageError(`${stray.map((f) => `--${f}`).join(', ')} ${idx ? 'applies to a folder of images, not to idx: data (its test files validate)' : 'applies to idx: data only'}.`, 'train');
  }
  const defaultSize = idx ? 32 : 71;
  const preset = string('preset') === undefined ? 'mini' : presetFlag(string('preset')!);
  return {
    source: { kind: idx ? 'idx' : 'folder', path },
    preset,
    inputSize: string('input-size') === undefined ? defaultSize : integerFlag('input-size', string('input-size')!, 8, 4096),
    channels: string('channels') === undefined ? (idx ? 1 : 3) : (Number(oneOfFlag('channels', string('channels')!, ['1', '3'])) as 1 | 3),
    classes: string('classes') === undefined ? undefined : integerFlag('classes', string('classes')!, 2),
    epochs: string('epochs') === undefined ? 10 : integerFlag('epochs', string('epochs')!, 1, 100_000),
    batchSize: string('batch-size') === undefined ? 32 : integerFlag('batch-size', string('batch-size')!, 1, 65_536),
    lr: string('lr') === undefined ? 1e-3 : numberFlag('lr', string('lr')!, 0, 10, true),
    schedule: string('schedule') === undefined ? 'constant' : oneOfFlag('schedule', string('schedule')!, ['constant', 'cosine'] as const),
    weights,
    freezeBackbone,
    fineTuneEpochs,
    device: string('device') === undefined ? 'auto' : oneOfFlag('device', string('device')!, TRAIN_DEVICES),
    out: string('out') ?? 'runs/latest',
    resume: values.resume === true,
    overwrite: values.overwrite === true,
    validationSplit: string('validation-split') === undefined ? 0.2 : numberFlag('validation-split', string('validation-split')!, 0, 0.9),
    seed: string('seed') === undefined ? 1 : integerFlag('seed', string('seed')!, 0),
    augment: values['no-augment'] !== true,
    skipBadFiles: values['skip-bad-files'] === true,
    maxFiles: string('max-files') === undefined ? undefined : integerFlag('max-files', string('max-files')!, 1),
    maxImages: string('max-images') === undefined ? undefined : integerFlag('max-images', string('max-images')!, 1),
    bnMomentum: string('bn-momentum') === undefined || string('bn-momentum') === 'auto' ? 'auto' : numberFlag('bn-momentum', string('bn-momentum')!, 0, 0.999),
  };
}

/** The presets `--preset` takes, for help. */
export const TRAIN_PRESETS = listPresets();
