import { XceptionModelFileError } from '../errors.js';
import type { KerasJson } from './keras-config.js';

/*
 * TensorFlow.js connects a functional model's layers by queueing every
 * inbound node and retrying the ones whose inputs do not exist yet until the
 * queue is empty (Container.fromConfig). A reference to a layer that is not
 * there, a node index past a layer's calls or two layers feeding each other
 * never leave the queue: a synchronous loop that never returns. This walk
 * replays the same queue on the config alone (names and node counts, nothing
 * built) and stops with a typed error naming the layer the first time a pass
 * makes no progress.
 */

const MODEL_CLASSES = new Set(['Model', 'Functional', 'Sequential']);

/** One reference of an inbound node: `[layer, node index, tensor index, kwargs]`. */
type Ref = [string, number, number, unknown?];

/**
 * Checks every functional model of a translated (Keras 2 form) config, nested
 * ones included: each inbound reference names a layer of the same model, each
 * layer gets every node that is asked of it, no cycle; `input_layers` and
 * `output_layers` name existing nodes. `label` names the file. @internal
 */
export function checkModelGraph(model: KerasJson, label: string): void {
  // Nesting is bounded before this runs (KERAS_FILE_LIMITS.maxConfigDepth), so recursion is safe.
  const config = model['config'];
  const layers = (Array.isArray(config) ? config : (config as KerasJson | undefined)?.['layers']) as KerasJson[] | undefined;
  if (!Array.isArray(layers)) return;
  for (const layer of layers) {
    if (MODEL_CLASSES.has(String(layer?.['class_name']))) checkModelGraph(layer, label);
  }
  if (model['class_name'] !== 'Sequential') checkFunctional(config as KerasJson, layers, label);
}

function checkFunctional(config: KerasJson, layers: KerasJson[], label: string): void {
  const modelName = String(config['name'] ?? 'model');
  const where = `${label}: model '${modelName}'`;
  const nodeCount = new Map<string, number>();
  const pending = new Map<string, Ref[][]>();
  for (const layer of layers) {
    const name = String(layer?.['name'] ?? (layer?.['config'] as KerasJson | undefined)?.['name']);
    if (nodeCount.has(name)) {
      throw new XceptionModelFileError(`${where} has two layers named '${name}'; layer names must be unique within a model.`);
    }
    nodeCount.set(name, initialNodes(layer));
    const nodes = (layer?.['inbound_nodes'] ?? []) as Ref[][];
    pending.set(name, Array.isArray(nodes) ? [...nodes] : []);
  }
  for (const [name, nodes] of pending) {
    for (const ref of nodes.flat()) {
      if (!nodeCount.has(String(ref[0]))) {
        throw new XceptionModelFileError(
          `${where}: layer '${name}' takes its input from '${String(ref[0])}', which is not a layer of this model ` +
            `(its layers: ${listNames([...nodeCount.keys()])}); the file is damaged.`,
        );
      }
      if (!(Number.isSafeInteger(ref[1]) && ref[1] >= 0 && Number.isSafeInteger(ref[2]) && ref[2] >= 0)) {
        throw new XceptionModelFileError(
          `${where}: layer '${name}' refers to node ${JSON.stringify(ref[1])}, tensor ${JSON.stringify(ref[2])} of '${String(ref[0])}'; ` +
            'node and tensor indices are non-negative integers.',
        );
      }
    }
  }
  // The queue of Container.fromConfig: passes in layer order until no node is left or a pass connects none.
  for (;;) {
    let left = 0;
    let progress = false;
    for (const [name, nodes] of pending) {
      const waiting: Ref[][] = [];
      for (const node of nodes) {
        if (node.every((ref) => nodeCount.get(ref[0])! > ref[1])) {
          if (node.length > 0) nodeCount.set(name, nodeCount.get(name)! + 1);
          progress = true;
        } else {
          waiting.push(node);
        }
      }
      pending.set(name, waiting);
      left += waiting.length;
    }
    if (left === 0) break;
    if (!progress) throw stuck(where, pending, nodeCount);
  }
  for (const key of ['input_layers', 'output_layers']) {
    for (const ref of (config[key] ?? []) as Ref[]) {
      const count = nodeCount.get(String(ref[0]));
      if (count === undefined || !(Number(ref[1]) < count)) {
        throw new XceptionModelFileError(
          `${where}: ${key} names node ${JSON.stringify(ref[1])} of '${String(ref[0])}', ` +
            `${count === undefined ? 'which is not a layer of this model' : `which has ${count} node${count === 1 ? '' : 's'}`}; the file is damaged.`,
        );
      }
    }
  }
}

/** Nodes a layer has once created: Input layers and nested models (built from their inputs) one, other layers none. */
function initialNodes(layer: KerasJson): number {
  const className = String(layer?.['class_name']);
  if (className === 'InputLayer' || className === 'Model' || className === 'Functional') return 1;
  if (className !== 'Sequential') return 0;
  const inner = layer['config'];
  const first = (Array.isArray(inner) ? inner : ((inner as KerasJson | undefined)?.['layers'] as KerasJson[] | undefined))?.[0];
  const firstConfig = first?.['config'] as KerasJson | undefined;
  return first?.['class_name'] === 'InputLayer' || firstConfig?.['batch_input_shape'] !== undefined ? 1 : 0;
}

/** The error for a queue that stopped moving: a cycle, or a node index past a layer's calls. */
function stuck(where: string, pending: Map<string, Ref[][]>, nodeCount: Map<string, number>): XceptionModelFileError {
  const waiting = [...pending].filter(([, nodes]) => nodes.length > 0).map(([name]) => name);
  for (const name of waiting) {
    for (const ref of pending.get(name)!.flat()) {
      const count = nodeCount.get(ref[0])!;
      if (count > ref[1] || waiting.includes(ref[0])) continue;
      return new XceptionModelFileError(
        `${where}: layer '${name}' takes node ${ref[1]} of layer '${ref[0]}', which has only ${count} ` +
          `node${count === 1 ? '' : 's'} (${count === 0 ? 'none' : `0 to ${count - 1}`}); the file is damaged.`,
      );
    }
  }
  return new XceptionModelFileError(
    `${where}: layers ${listNames(waiting)} take their inputs from each other (a cycle), so the graph has no order ` +
      'in which they can be connected; the file is damaged.',
  );
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 8).map((n) => `'${n}'`).join(', ');
  return names.length > 8 ? `${shown} and ${names.length - 8} more` : shown;
}
