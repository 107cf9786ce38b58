import { XceptionWeightsError } from '../errors.js';
import type { Hdf5Dataset, Hdf5Reader } from './hdf5-reader.js';

/** One layer of a Keras weight file, whatever the layout: its name and its weight datasets in order. @internal */
export interface FileLayer {
  /** The layer's name in the file (a Keras 1 auto name like `convolution2d_1` in the official files). */
  name: string;
  /** Where the layer lives in the file, for error messages. */
  path: string;
  /** Its weights, in Keras order (trainable, then non-trainable). */
  weights: Hdf5Dataset[];
}

/** The layers of a Keras weight file and the layout they came from. @internal */
export interface KerasWeightFile {
  /** `'keras2'` covers Keras 1.1, Keras 2 and tf.keras `save_weights`/`save` files; `'keras3'` the `.weights.h5` format. */
  layout: 'keras2' | 'keras3';
  /** Keras 1/2: the layers with weights, in `layer_names` order. Keras 3: every `layers/<name>` group. */
  layers: FileLayer[];
}

/**
 * Reads the layer list of any Keras HDF5 weight layout:
 * - Keras 1.1 (the official Xception files), Keras 2 `save_weights`, tf.keras ≥ 2.7: a root
 *   `layer_names` attribute (or `layer_names0`, `layer_names1`, … when chunked), each layer a group
 *   with `weight_names` and its datasets at `<layer>/<weight name>`;
 * - full-model files: the same under `/model_weights`;
 * - Keras 3 `.weights.h5`: `/layers/<snake_case_class>[_n]/vars/0..k`.
 * @internal
 */
export function readKerasWeightFile(reader: Hdf5Reader, label: string): KerasWeightFile {
  const root = reader.hasGroup('/model_weights') ? '/model_weights' : '/';
  const layerNames = stringList(reader.attrs(root), 'layer_names');
  if (layerNames !== null) {
    const layers: FileLayer[] = [];
    for (const name of layerNames) {
      const path = join(root, name);
      const weightNames = stringList(reader.attrs(path), 'weight_names') ?? [];
      if (weightNames.length === 0) continue; // layers without weights (activations, pooling, input)
      layers.push({ name, path, weights: weightNames.map((weight) => reader.dataset(join(path, weight))) });
    }
    return { layout: 'keras2', layers };
  }
  if (reader.hasGroup(join(root, 'layers'))) {
    const layers = reader.keys(join(root, 'layers')).flatMap((group): FileLayer[] => {
      const path = join(root, 'layers', group);
      const vars = join(path, 'vars');
      if (!reader.hasGroup(vars)) return [];
      const indices = reader.keys(vars).filter((k) => /^\d+$/.test(k)).map(Number).sort((a, b) => a - b);
      const named = reader.attrs(vars)['name'];
      return [{
        name: typeof named === 'string' ? named : group,
        path: group,
        weights: indices.map((i) => reader.dataset(join(vars, String(i)))),
      }];
    });
    return { layout: 'keras3', layers };
  }
  if (reader.usesDenseAttributes(root)) {
    throw new XceptionWeightsError(
      `${label} keeps the attributes of ${root} in HDF5 dense storage (over 64 KB of them, e.g. a very long ` +
        `'layer_names' written in one piece), which this reader cannot read. Keras itself splits long lists into ` +
        `'layer_names0', 'layer_names1', …; save the weights with Keras' save_weights.`,
    );
  }
  throw new XceptionWeightsError(
    `${label} is HDF5 but not a Keras weight file: it has no 'layer_names' attribute (Keras 1/2, ` +
      `or under /model_weights) and no /layers group (Keras 3 .weights.h5).`,
  );
}

/** Reads a string-list attribute, joining `name0`, `name1`, … when Keras split it. Null when absent. */
function stringList(attrs: Record<string, unknown>, name: string): string[] | null {
  if (name in attrs) return toStrings(attrs[name], name);
  if (!(`${name}0` in attrs)) return null;
  const parts: string[] = [];
  for (let i = 0; `${name}${i}` in attrs; i++) parts.push(...toStrings(attrs[`${name}${i}`], `${name}${i}`));
  return parts;
}

/** Accepts fixed-length (NUL-padded) and variable-length strings, as h5py 2 and 3 write them. */
function toStrings(value: unknown, name: string): string[] {
  const items = typeof value === 'string' ? [value] : Array.isArray(value) || ArrayBuffer.isView(value) ? Array.from(value as ArrayLike<unknown>) : null;
  if (items === null) throw new XceptionWeightsError(`attribute '${name}' is not a list of strings.`);
  return items.map((item) => {
    if (typeof item === 'string') return item.replace(/\0+$/, '');
    if (item instanceof Uint8Array) return new TextDecoder().decode(item).replace(/\0+$/, '');
    // An empty float array is how Keras writes 'no weights'.
    if (typeof item === 'number') throw new XceptionWeightsError(`attribute '${name}' holds numbers, not names.`);
    throw new XceptionWeightsError(`attribute '${name}' holds a ${typeof item}, not a string.`);
  });
}

function join(...parts: string[]): string {
  return `/${parts.join('/').split('/').filter(Boolean).join('/')}`;
}
