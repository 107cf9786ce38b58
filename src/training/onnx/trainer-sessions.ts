// The trainer's ONNX Runtime sessions: one per graph kind and batch size, built on first use.
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { OnnxRuntime } from '../../onnx/onnx-classifier.js';
import { openSessionOnDevice, type OnnxDeviceInfo, type OpenedSession } from '../../onnx/onnx-device.js';
import { cpuFormulation } from './cpu-kernels.js';
import { buildEvaluationGraph } from './graph/build-evaluation-graph.js';
import { buildTrainingGraph } from './graph/build-training-graph.js';
import type { EvaluationGraph, TrainingGraph } from './graph/training-graph.js';
import type { ResolvedTrainerOptions } from './onnx-trainer-options.js';

/** An ONNX Runtime tensor as the trainer uses it. @internal */
export type OrtTensor = { data: unknown; dims: readonly number[]; type?: string };
/** An ONNX Runtime session as the trainer uses it. @internal */
export type Session = { run(feeds: Record<string, unknown>, fetches?: unknown): Promise<Record<string, OrtTensor>>; release(): Promise<void> };
/** ONNX Runtime's `Tensor` constructor. @internal */
export type TensorConstructor = new (type: string, data: Float32Array | BigInt64Array, dims: readonly number[]) => OrtTensor;

/** A session and the graph it runs. @internal */
export interface GraphSession<G> {
  session: Session;
  graph: G;
}

/** The trainer's sessions, keyed by graph kind and batch size. @internal */
export interface TrainerSessions {
  /** The device the sessions run on, once the first one is open. */
  device(): OnnxDeviceInfo | undefined;
  training(batch: number): Promise<GraphSession<TrainingGraph>>;
  evaluation(batch: number): Promise<GraphSession<EvaluationGraph>>;
  /** Releases every session built so far; later calls build anew. */
  releaseAll(): Promise<void>;
}

/**
 * Builds each graph and its session on first use (a training graph per batch size, since
 * the batch is baked into the graph's shapes; an evaluation graph likewise). A failed build
 * is forgotten, so the next call tries again. @internal
 */
export function createTrainerSessions(model: LayersModel, ort: OnnxRuntime, settings: ResolvedTrainerOptions): TrainerSessions {
  const sessions = new Map<string, Promise<GraphSession<TrainingGraph | EvaluationGraph>>>();
  // The first session picks the device (probing; under 'auto' falling back to the CPU); the
  // others open on the same providers. A first session that fails leaves the choice open.
  let placed: Promise<OpenedSession> | undefined;
  let device: OnnxDeviceInfo | undefined;
  const open = async <G extends { bytes: Uint8Array }>(build: (executionProviders: readonly string[]) => Promise<G>) => {
    if (!placed) {
      let graph: G | undefined;
      const opening = openSessionOnDevice(ort, async (providers) => (graph = await build(providers)).bytes, settings.sessionOptions, settings.device, 'createOnnxTrainer');
      placed = opening;
      opening.then((opened) => (device = opened.device), () => (placed = undefined));
      return { session: (await opening).session, graph: graph! };
    }
    const { providers } = await placed;
    const graph = await build(providers.map((p) => (typeof p === 'string' ? p : p.name)));
    return { session: await ort.InferenceSession.create(graph.bytes, { ...settings.sessionOptions, executionProviders: [...providers] }), graph };
  };
  const sessionFor = (kind: 'train' | 'eval', batch: number) => {
    const key = `${kind}:${batch}`;
    let entry = sessions.get(key);
    if (!entry) {
      entry = (async () => {
        // ONNX Runtime's CPU provider alone gets the CPU flavour (cpu-kernels.ts: the max-pool
        // gradient through MaxPool's Indices, depthwise convolutions on its NCHWc kernel); other
        // providers the standard-operator graph.
        const { session, graph } = await open<TrainingGraph | EvaluationGraph>(async (providers) => {
          const formulation = providers.every((p) => p === 'cpu') ? await cpuFormulation(ort) : {};
          return kind === 'train'
            ? buildTrainingGraph(model, { optimizer: settings.optimizer, loss: settings.loss, batchSize: batch, formulation })
            : buildEvaluationGraph(model, { loss: settings.loss, batchSize: batch, formulation });
        });
        // The session holds its own copy of the model; with a frozen backbone as initializers
        // the bytes are the size of the weights (84 MB for Xception): do not keep them twice.
        return { session: session as unknown as Session, graph: { ...graph, bytes: new Uint8Array(0) } };
      })();
      sessions.set(key, entry);
      entry.catch(() => sessions.delete(key));
    }
    return entry;
  };
  return {
    device: () => device,
    training: (batch) => sessionFor('train', batch) as Promise<GraphSession<TrainingGraph>>,
    evaluation: (batch) => sessionFor('eval', batch) as Promise<GraphSession<EvaluationGraph>>,
    releaseAll: async () => {
      const all = await Promise.allSettled(sessions.values());
      sessions.clear();
      for (const result of all) if (result.status === 'fulfilled') await result.value.session.release();
    },
  };
}
