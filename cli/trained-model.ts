/*
 * `classify --model DIR`: the model and class names that `train` wrote in DIR.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadKerasModel, XceptionError } from '../src/index.js';
import { UsageError } from './cli-errors.js';
import type { CliFlags } from './flags.js';

/** Flags that describe a model, which --model replaces. */
const MODEL_FLAGS = ['weights', 'preset', 'classes', 'input', 'allow-small-input'];

/** Loads DIR/model.keras and DIR/classes.json, refusing model flags beside --model. */
export async function loadTrainedModel(dir: string, values: CliFlags): Promise<{ model: LayersModel; labels: string[] }> {
  const extra = MODEL_FLAGS.filter((flag) => values[flag] !== undefined);
  if (extra.length) throw new UsageError(`--model brings its own model; drop ${extra.map((f) => `--${f}`).join(', ')}.`, 'classify');
  let labels: unknown;
  try {
    labels = JSON.parse(await readFile(join(dir, 'classes.json'), 'utf8'));
  } catch (error) {
    throw new XceptionError(`--model ${dir}: cannot read classes.json (${(error as Error).message}); --model takes a folder that 'xception-ts train' wrote.`);
  }
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) throw new XceptionError(`--model ${dir}: classes.json is not a list of class names.`);
  const model = await loadKerasModel(join(dir, 'model.keras'));
  const classes = model.outputs[0]!.shape[1];
  if (classes !== labels.length) {
    model.dispose();
    throw new XceptionError(`--model ${dir}: model.keras has ${classes} outputs but classes.json names ${labels.length} classes.`);
  }
  return { model, labels: labels as string[] };
}
