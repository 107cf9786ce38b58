/*
 * The CLI's commands: their arguments, the flags each takes, and their help.
 * A flag that a command does not list is refused (exit 2), never ignored.
 */
import { listPresets } from '../src/index.js';

/** A command's arguments, flags and help text. */
export interface CommandSpec {
  /** Positional arguments, e.g. `<weights.h5> <outDir>`. */
  args: string;
  /** How many positionals it takes: exactly `min` when `max` equals it. */
  min: number;
  max: number;
  /** The flags it takes (without `--`). */
  flags: readonly string[];
  /** One line for the command list. */
  summary: string;
  /** Its help text, after the usage line. */
  help: string;
  /** Help lines of flags that mean something else for this command than {@link FLAG_HELP} says. */
  flagHelp?: Record<string, string>;
}

/** The flags that describe a model to build (refused with a whole Keras model file, which brings its own). */
export const MODEL_FLAGS = ['preset', 'classes', 'input', 'no-top', 'output-stride', 'allow-small-input'] as const;

/** Every flag's help line. */
export const FLAG_HELP: Record<string, string> = {
  preset: `--preset P            Variant: ${listPresets().join(', ')} (default: keras).`,
  classes: '--classes N           Classifier units with the top (default: 1000).',
  input: "--input H,W,C         Input shape, e.g. 299,299,3 (default: the preset's).",
  'no-top': '--no-top              Leave out the pooling and classifier.',
  'output-stride': '--output-stride 8|16|32  Dilate the last units instead of striding (default: 32).',
  'allow-small-input': '--allow-small-input   Accept inputs from 32 up to 70 pixels, which Keras refuses.',
  quantize: '--quantize float16|uint8  Store weights at 2 or 1 byte each (default: float32).',
  batch: '--batch N             A fixed batch size (default: dynamic).',
  weights: "--weights W           imagenet (the preset's ImageNet weights: Keras' file or timm's checkpoint, downloaded and cached), a Keras .h5 or timm .safetensors file, or random (default: imagenet).",
  top: '--top K               How many classes to print per image (default: 5).',
  cam: '--cam out.png         Write a Grad-CAM heatmap of the top class over the image (one image only).',
  engine: '--engine tfjs|onnx    Classify with TensorFlow.js or with ONNX Runtime (onnxruntime-node) (default: tfjs).',
  json: '--json                Print JSON instead of a table.',
  model: "--model DIR           Classify with a model that 'train' wrote (its model.keras and classes.json); no other model flags.",
  'input-size': '--input-size N        Square input size (default: 71; 32 for idx:).',
  channels: '--channels 1|3        Convert every image to gray or RGB (default: 3; 1 for idx:).',
  epochs: '--epochs N            Epochs to train (default: 10).',
  'batch-size': '--batch-size N        Images per step (default: 32).',
  lr: "--lr X                Adam's learning rate (default: 0.001).",
  schedule: '--schedule S          constant, or cosine: decays --lr to 0 over the run (default: constant).',
  'freeze-backbone': '--freeze-backbone     With --weights: train only the new head (keras.io transfer learning).',
  'fine-tune-epochs': "--fine-tune-epochs N  With --freeze-backbone: then unfreeze all but BatchNormalization and train N more epochs at --lr/100 (default: 0).",
  device: '--device D            ONNX Runtime device: auto, cpu, webgpu or cuda (default: auto).',
  out: '--out DIR             Where the run is written; nothing is written elsewhere (default: runs/latest).',
  resume: '--resume              Continue the run in --out from its checkpoint (up to --epochs).',
  overwrite: "--overwrite           Start a new run in an existing --out (runs.json keeps the old runs' rows).",
  'validation-split': '--validation-split X  Fraction of each class held out for validation (default: 0.2; idx: uses the test files).',
  seed: '--seed N              Seed of the split, shuffling, augmentation and dropout (default: 1).',
  'no-augment': '--no-augment          Train without random flips and crops.',
  'skip-bad-files': '--skip-bad-files      Leave out images that cannot be read or decoded, and list them, instead of stopping.',
  'max-files': '--max-files N         Refuse a folder of more than N images (default: 2,000,000).',
  'max-images': '--max-images N        idx: use only the first N images of each split.',
  'bn-momentum': "--bn-momentum X       BatchNormalization's momentum, or auto: 1 − 10/steps of the run, from 0.9 to Keras' 0.99 (default: auto).",
};

/** The commands by name. */
export const COMMANDS: Record<string, CommandSpec> = {
  summary: {
    args: '',
    min: 0,
    max: 0,
    flags: MODEL_FLAGS,
    summary: 'Build the model and print its layer table and parameter counts.',
    help: 'Builds the model the flags describe and prints one row per layer (name, class, output shape,\nparameters, weight shapes) and the parameter counts.',
  },
  convert: {
    args: '<weights.h5|model.keras|model.h5> <outDir>',
    min: 2,
    max: 2,
    flags: [...MODEL_FLAGS, 'quantize'],
    summary: 'Write Keras weights or a Keras model file as a TensorFlow.js layers model (model.json + shards).',
    help:
      'Loads Keras HDF5 weights (e.g. the official ImageNet files) into the matching model and writes\n' +
      'a TensorFlow.js layers model that tf.loadLayersModel loads without xception-ts. A whole Keras model\n' +
      'file (.keras archive, or .h5 from model.save, Keras 1 to 3) needs no preset: the model comes from the file.',
  },
  'export-onnx': {
    args: '<weights.h5|model.keras|model.h5|random> <model.onnx>',
    min: 2,
    max: 2,
    flags: [...MODEL_FLAGS, 'batch'],
    summary: 'Write an ONNX model (opset 13, NHWC float32) for ONNX Runtime.',
    help:
      "Loads Keras HDF5 weights into the model the flags describe (or 'random' for untrained weights), or a\n" +
      "whole Keras model file (.keras, or .h5 from model.save: then no model flags), and writes an ONNX model\n(input 'input' NHWC float32, output 'output').",
  },
  inspect: {
    args: '<file.keras|file.h5>',
    min: 1,
    max: 1,
    flags: [],
    summary: "Print a Keras file's format, Keras version, layer table and parameter count.",
    help: 'Reads a Keras file (a .keras archive, a full-model .h5 from model.save, or save_weights weights)\nand prints its format, the Keras version that wrote it, its layers and parameter count, and\nwhy it cannot be loaded, if it cannot.',
  },
  'export-keras': {
    args: '<weights.h5|model.keras|model.h5|random> <out.keras|out.weights.h5|out.h5>',
    min: 2,
    max: 2,
    flags: MODEL_FLAGS,
    summary: 'Write a model as a Keras file (.keras archive, Keras 3 or Keras 2 weights).',
    help:
      'Writes a model as a Keras file, chosen by the output name (any case): .keras (Keras 3 archive),\n' +
      '.weights.h5 (Keras 3 weights) or .h5 (Keras 2 save_weights layout); any other name is refused.\n' +
      "The source is Keras weights for the model the flags describe, 'random', or a whole Keras model file\n" +
      '(then no model flags). Needs h5wasm (npm install h5wasm).',
  },
  classify: {
    args: '<image…>',
    min: 1,
    max: Number.POSITIVE_INFINITY,
    flags: ['weights', 'preset', 'classes', 'input', 'allow-small-input', 'top', 'cam', 'engine', 'json', 'model'],
    summary: 'Classify PNG/JPEG images; optionally write a Grad-CAM overlay.',
    help:
      "Decodes each PNG or JPEG, resizes it to the model's input, applies Xception's preprocessing and\n" +
      'prints the top classes (ImageNet labels with 1000 classes). With --cam, also writes the Grad-CAM\n' +
      "heatmap of the top class (layer block14_sepconv2_act for 'keras') over the image as a PNG.\n" +
      "Runs on TensorFlow.js' wasm backend when @tensorflow/tfjs-backend-wasm is installed (about a second\n" +
      "per 299×299 image), else on 'cpu' (about 15 s).",
  },
  train: {
    args: '<folder | idx:DIR>',
    min: 1,
    max: 1,
    flags: [
      'preset', 'input-size', 'channels', 'classes', 'epochs', 'batch-size', 'lr', 'schedule', 'weights', 'freeze-backbone',
      'fine-tune-epochs', 'device', 'out', 'resume', 'overwrite', 'validation-split', 'seed', 'no-augment', 'skip-bad-files',
      'max-files', 'max-images', 'bn-momentum',
    ],
    summary: 'Train a preset on a folder of images (one sub-folder per class) or IDX files; print the runs table.',
    help:
      'Trains on ONNX Runtime (onnxruntime-node) on a folder with one sub-folder per class (PNG/JPEG, decoded batch by\n' +
      'batch) or, with idx:DIR, the IDX files of MNIST, Fashion-MNIST, KMNIST or EMNIST. A bar per epoch (images/s,\n' +
      'ETA) on a terminal, a line per epoch elsewhere; Ctrl-C stops after the current batch and leaves a checkpoint\n' +
      'that --resume continues. Writes in --out: history.json (Keras History keys), history.svg, model.keras,\n' +
      'model.onnx, classes.json, checkpoint/ and runs.json, and prints one row per run kept there:\n' +
      'Params | Loss | Val_Loss | ACC | Val_ACC | epochs | minutes | device.',
    flagHelp: {
      preset: '--preset P            Variant (default: mini; see xception-ts help summary for the list).',
      classes: "--classes N           Check that the data holds N classes (default: the data's).",
      weights: "--weights W           imagenet (the preset's ImageNet weights, Keras' no-top file), a Keras weights file, or none (default: none).",
    },
  },
};

/** The usage line of one command. */
export function usageLine(name: string): string {
  const spec = COMMANDS[name]!;
  const help = (f: string) => spec.flagHelp?.[f] ?? FLAG_HELP[f]!;
  const flags = spec.flags.map((f) => `[--${f}${help(f).match(/^--\S+ (\S+)/)?.[1] ? ' ' + help(f).match(/^--\S+ (\S+)/)![1] : ''}]`);
  return `xception-ts ${name}${spec.args ? ` ${spec.args}` : ''} ${flags.join(' ')}`;
}

/** `xception-ts help <command>`. */
export function commandHelp(name: string): string {
  const spec = COMMANDS[name]!;
  const options = spec.flags.length > 0 ? `\n\nOptions:\n${spec.flags.map((f) => `  ${spec.flagHelp?.[f] ?? FLAG_HELP[f]}`).join('\n')}` : '';
  return `Usage: ${usageLine(name)}\n\n${spec.help}${options}`;
}

/** `xception-ts --help`. */
export function generalHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'Usage: xception-ts <command> [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`),
    `  ${'help'.padEnd(width)}  Show a command's options: xception-ts help <command>.`,
    '',
    '  --version  Print the version.',
    '  --help     Show this text.',
  ].join('\n');
}
