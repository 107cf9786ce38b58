import { XceptionDataError } from '../errors.js';
import { XCEPTION_LIMITS } from '../model/limits.js';

/** `size` or `[height, width]` as `[height, width]`, each from 1 to XCEPTION_LIMITS.maxInputSize. @internal */
export function requireImageSize(what: string, size: unknown): [number, number] {
  const pair = typeof size === 'number' ? [size, size] : Array.isArray(size) && size.length === 2 ? size : undefined;
  const max = XCEPTION_LIMITS.maxInputSize;
  if (!pair || !pair.every((d) => Number.isInteger(d) && d >= 1 && d <= max)) {
    throw new XceptionDataError(`${what}: imageSize must be an integer or [height, width] of integers from 1 to ${max}; got ${JSON.stringify(size)}.`);
  }
  return [pair[0], pair[1]];
}
