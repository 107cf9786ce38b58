import { readFileSync } from 'node:fs';

/** One row of test/fixtures/keras-xception-layers.tsv (a copy of ../shared/reference). */
export interface ReferenceRow {
  index: number;
  className: string;
  /** The Keras name, or null where Keras leaves the layer to auto-naming. */
  kerasName: string | null;
  /** e.g. `[N,149,149,32]`. */
  outputShape: string;
  /** e.g. `['kernel[3,3,3,32]']`. */
  weights: string[];
}

export function readReferenceTable(): ReferenceRow[] {
  const text = readFileSync(new URL('../fixtures/keras-xception-layers.tsv', import.meta.url), 'utf8');
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [index, , className, name, outputShape, weights] = line.split('\t');
      return {
        index: Number(index),
        className: className!,
        kerasName: name === '(unnamed)' ? null : name!,
        outputShape: outputShape!,
        weights: weights ? weights.split(' ') : [],
      };
    });
}
