/*
 * The CLI's flags as values, with errors in flag terms that echo the raw value.
 */
import { listPresets, type XceptionOptions } from '../src/index.js';
import { UsageError } from './cli-errors.js';

/** The parsed flags, as strings and booleans. */
export type CliFlags = Record<string, string | boolean | undefined>;

/** Rewrites the library's option names in an error message as the CLI's flags. */
export function inFlagTerms(message: string): string {
  return message
    .replace(/pass allowSmallInput: true/g, 'pass --allow-small-input')
    .replace(/\(or set includeTop: false[^)]*\)/g, '(or pass --no-top)')
    .replace(/\bset includeTop: false\b/g, 'pass --no-top')
    .replace(/includeTop: (true|false)/g, (_, v: string) => (v === 'false' ? '--no-top' : 'a top (no --no-top)'))
    .replace(/\binputShape \[([^\]]*)\]/g, (_, dims: string) => `--input ${dims.replace(/\s/g, '')}`)
    .replace(/\binputShape\b/g, '--input')
    .replace(/\bnumClasses\b/g, '--classes')
    .replace(/\boutputStride\b/g, '--output-stride')
    .replace(/Unknown preset/g, 'Unknown --preset');
}

/** The options of summary, convert and export-onnx, from their flags. */
export function modelOptions(values: CliFlags): XceptionOptions {
  const options: XceptionOptions = { includeTop: values['no-top'] !== true };
  if (values.preset !== undefined) options.preset = presetFlag(values.preset as string);
  if (values.classes !== undefined && values['no-top'] === true) {
    throw new UsageError('--classes sets the size of the classifier, which --no-top leaves out; pass one or the other.');
  }
  if (values.classes !== undefined) options.numClasses = integerFlag('classes', values.classes as string, 1);
  if (values['output-stride'] !== undefined) {
    options.outputStride = oneOfFlag('output-stride', values['output-stride'] as string, ['8', '16', '32']) === '8'
      ? 8
      : values['output-stride'] === '16' ? 16 : 32;
  }
  if (values.input !== undefined) options.inputShape = inputFlag(values.input as string);
  if (values['allow-small-input']) options.allowSmallInput = true;
  return options;
}

/** `--name` as an integer ≥ `min`, in flag terms. */
export function integerFlag(name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(Number.isSafeInteger(value) && value >= min && value <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be an integer ${range}; got ${JSON.stringify(raw)}.`);
  }
  return value;
}

/** `--name` as one of `allowed`. */
export function oneOfFlag<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(raw)}.`);
  }
  return raw as T;
}

/** `--preset`. */
export function presetFlag(raw: string): NonNullable<XceptionOptions['preset']> {
  return oneOfFlag('preset', raw, listPresets());
}

/** `--input H,W,C`. */
export function inputFlag(raw: string): [number, number, number] {
  const parts = raw.split(',');
  if (parts.length !== 3 || !parts.every((p) => /^\s*\d+\s*$/.test(p) && Number(p) > 0)) {
    throw new UsageError(`--input must be three positive integers H,W,C, e.g. 299,299,3; got ${JSON.stringify(raw)}.`);
  }
  return parts.map(Number) as [number, number, number];
}

