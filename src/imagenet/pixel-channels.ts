import { XceptionConfigError } from '../errors.js';

/**
 * The channel count (3: RGB, 4: RGBA) of interleaved pixels, after checking
 * that the size is a positive integer and the data fits it exactly. @internal
 */
export function pixelChannels(image: { data: ArrayLike<number>; width: number; height: number }): 3 | 4 {
  const { data, width: w, height: h } = image;
  if (!(Number.isInteger(w) && w > 0 && Number.isInteger(h) && h > 0)) {
    throw new XceptionConfigError(`an image needs a positive integer width and height; got ${w} × ${h}.`);
  }
  const channels = data.length / (w * h);
  if (channels !== 3 && channels !== 4) {
    throw new XceptionConfigError(
      `image data must hold width · height · 3 (RGB) or · 4 (RGBA) values; ${w} × ${h} needs ${w * h * 3} or ${w * h * 4}, got ${data.length}.`,
    );
  }
  return channels;
}
