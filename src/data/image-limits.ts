import { XceptionConfigError } from '../errors.js';

/**
 * The default caps of {@link loadImage} (and of the CLI's `classify`), checked
 * before any pixel is decoded or any byte of a file is read, so that a tiny
 * hostile file (a 69-byte PNG declaring 30000 × 30000 pixels) or a device
 * (`/dev/zero`) fails at once instead of taking gigabytes:
 *
 * - `maxPixels` 50,000,000 (width × height as the header declares it): a
 *   48-megapixel phone photo (8064 × 6048) passes; an 8000 × 8000 scan is
 *   refused. Decoding is pure JavaScript in Node (pngjs, jpeg-js): an
 *   8000 × 6000 JPEG took 75 s and 4.0 GB peak RSS through the CLI's
 *   `classify` on a shared 2-core machine. Pillow warns at 89,478,485.
 * - `maxBytes` 256 MiB: the largest file read (its size is checked with
 *   `stat` first; devices, pipes and folders are refused).
 *
 * Raise either per call with `loadImage(source, { maxPixels, maxBytes })`.
 *
 * @example
 * ```ts
 * import { IMAGE_LIMITS, loadImage } from 'xception-ts';
 *
 * IMAGE_LIMITS.maxPixels; // 50000000
 * const scan = await loadImage('./scan.png', { maxPixels: 200_000_000, maxBytes: 2 ** 30 });
 * ```
 * @category Data
 */
export const IMAGE_LIMITS = Object.freeze({
  /** Largest declared width × height, in pixels. */
  maxPixels: 50_000_000,
  /** Largest image file read, in bytes. */
  maxBytes: 256 * 2 ** 20,
});

/** A positive integer cap, or the default. @internal */
export function resolveLimit(what: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new XceptionConfigError(`${what} must be a positive integer; got ${typeof value === 'number' ? value : JSON.stringify(value) ?? String(value)}.`);
  }
  return value;
}

/** Formats a number of pixels or bytes with thousands separators. @internal */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
