import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { XceptionConfigError } from '../errors.js';

/*
 * Argument checks shared by the builders. Each throws an XceptionConfigError
 * whose message names the option, echoes the value and says what is allowed.
 */

/** Formats a value for an error message: arrays and strings as JSON, the rest as text. */
export function show(value: unknown): string {
  if (typeof value === 'string' || Array.isArray(value)) return JSON.stringify(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value !== null && typeof value === 'object') return Object.prototype.toString.call(value);
  return String(value);
}

/** Requires an integer ≥ `min`. */
export function requireInteger(what: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new XceptionConfigError(`${what} must be an integer >= ${min}; got ${show(value)}.`);
  }
  return value;
}

/** Requires a positive integer or a pair of them, e.g. a kernel size. */
export function requireIntegerOrPair(
  what: string,
  value: unknown,
  min: number,
): number | [number, number] {
  if (Array.isArray(value)) {
    if (value.length !== 2 || !value.every((v) => Number.isInteger(v) && v >= min)) {
      throw new XceptionConfigError(
        `${what} must be an integer >= ${min} or a pair of them; got ${show(value)}.`,
      );
    }
    return [value[0], value[1]];
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new XceptionConfigError(
      `${what} must be an integer >= ${min} or a pair of them; got ${show(value)}.`,
    );
  }
  return value;
}

/** Requires one of a fixed set of strings. */
export function requireOneOf<T extends string | number>(what: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    const list = allowed.map((a) => (typeof a === 'string' ? `'${a}'` : String(a))).join(', ');
    throw new XceptionConfigError(`${what} must be one of ${list}; got ${show(value)}.`);
  }
  return value as T;
}

/** Requires a list of positive integers of a given length (or any non-zero length). */
export function requireWidths(what: string, value: unknown, length?: number): number[] {
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    (length === undefined || value.length === length) &&
    value.every((v) => Number.isInteger(v) && v >= 1);
  if (!ok) {
    const shape = length === undefined ? 'a non-empty list of' : `a list of ${length}`;
    throw new XceptionConfigError(`${what} must be ${shape} positive integers; got ${show(value)}.`);
  }
  return [...(value as number[])];
}

/** Requires a pair of positive integers, e.g. the two widths of a unit. */
export function requireWidthPair(what: string, value: unknown): [number, number] {
  const [first, second] = requireWidths(what, value, 2);
  return [first!, second!];
}

/** Requires a string usable as a layer name (or prefix, when empty is allowed). */
export function requireName(what: string, value: unknown, allowEmpty: boolean): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0) || /\s/.test(value)) {
    throw new XceptionConfigError(
      `${what} must be a ${allowEmpty ? '' : 'non-empty '}string without whitespace; got ${show(value)}.`,
    );
  }
  return value;
}

/**
 * Requires a 4D symbolic tensor (batch, height, width, channels) with a known
 * channel count, as every Xception building block takes.
 */
export function requireFeatureMap(what: string, x: unknown): SymbolicTensor {
  const shape = (x as { shape?: unknown } | null)?.shape;
  if (!Array.isArray(shape) || !('sourceLayer' in (x as object))) {
    throw new XceptionConfigError(
      `${what} must be a tfjs SymbolicTensor (from tf.input() or a layer's apply()); got ${show(x)}.`,
    );
  }
  if (shape.length !== 4 || shape[3] == null) {
    throw new XceptionConfigError(
      `${what} must have shape [batch, height, width, channels] with known channels; got ${show(shape)}.`,
    );
  }
  return x as SymbolicTensor;
}
