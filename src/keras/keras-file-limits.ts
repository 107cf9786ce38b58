import { XceptionConfigError, XceptionModelFileError } from '../errors.js';
import { show } from '../model/validation.js';

/**
 * The bounds {@link loadKerasModel} and {@link inspectKerasFile} (and the CLI
 * commands that read Keras files) put on a Keras model file, checked before
 * anything the file declares is allocated, so that a damaged or hostile file
 * fails at once with {@link XceptionModelFileError} instead of exhausting
 * memory, the stack or the CPU. Each is far above real models; the ones that
 * a real model could reach can be raised per call.
 *
 * - `maxConfigDepth` 100: JSON nesting of the model config (Xception's is
 *   12; every nested model adds 4 to 6). Deeper configs are refused before
 *   they are walked (a config 5,000 arrays deep used to overflow the stack).
 * - `maxParameters` 268,435,456 (2^28, 1 GiB of float32): the most weights
 *   a model built from a config may hold; counted as each layer declares a
 *   weight, before the weight is allocated. Raise with the `maxParameters`
 *   option. Xception has 22.9 M.
 * - `maxUncompressedBytes` 1 GiB: the most bytes a file may inflate to,
 *   the `.keras` archive's `model.weights.h5` member (its declared size) and
 *   all HDF5 gzip chunks of a weight file together (counted as they
 *   inflate). Raise with the `maxUncompressedBytes` option.
 * - `maxConfigBytes` 64 MiB: `config.json` and `metadata.json` of a
 *   `.keras` archive (Xception's config is about 100 kB).
 *
 * @example
 * ```ts
 * import { KERAS_FILE_LIMITS } from 'xception-ts';
 *
 * KERAS_FILE_LIMITS.maxParameters; // 268435456
 * ```
 * @category Keras files
 */
export const KERAS_FILE_LIMITS = Object.freeze({
  /** Deepest JSON nesting of a model config. */
  maxConfigDepth: 100,
  /** Default of the `maxParameters` option: most scalars in a model's weights. */
  maxParameters: 2 ** 28,
  /** Default of the `maxUncompressedBytes` option: most bytes inflated per file. */
  maxUncompressedBytes: 2 ** 30,
  /** Largest JSON member of a `.keras` archive, in bytes. */
  maxConfigBytes: 64 * 1024 * 1024,
});

/**
 * Refuses a JSON value nested deeper than {@link KERAS_FILE_LIMITS}
 * `.maxConfigDepth`; walks it with an explicit stack, so a hostile depth
 * cannot overflow the call stack here. @internal
 */
export function requireBoundedDepth(value: unknown, what: string): void {
  const max = KERAS_FILE_LIMITS.maxConfigDepth;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > max) {
      throw new XceptionModelFileError(
        `${what} is nested more than ${max} levels deep (KERAS_FILE_LIMITS.maxConfigDepth); ` +
          'a Keras model config is a few levels deep per nested model, so this file is damaged or hostile.',
      );
    }
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
}

/** `maxUncompressedBytes` and `maxParameters` of a call's options, checked, with their defaults. @internal */
export function resolveKerasFileLimits(
  what: string,
  options: { maxUncompressedBytes?: number; maxParameters?: number },
): { maxUncompressedBytes: number; maxParameters: number } {
  const positive = (key: 'maxUncompressedBytes' | 'maxParameters'): number => {
    const value = options[key] ?? KERAS_FILE_LIMITS[key];
    if (!(typeof value === 'number' && Number.isSafeInteger(value) && value > 0)) {
      throw new XceptionConfigError(`${what}: ${key} must be a positive integer; got ${show(value)}.`);
    }
    return value;
  };
  return { maxUncompressedBytes: positive('maxUncompressedBytes'), maxParameters: positive('maxParameters') };
}
