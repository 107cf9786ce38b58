// The training state in ONNX Runtime tensors and the steps that read and replace it.
import { tensor, type Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { isDisposedModel } from '../../argument-checks.js';
import { XceptionTrainingError } from '../../errors.js';
import { firstNonFinite, readBatch, type BatchSpec, type LabelledArrays } from './batch-input.js';
import { countCorrect, crossEntropySum } from './classification-metrics.js';
import type { StateEntry, TrainingGraph } from './graph/training-graph.js';
import { trainingSplit } from './graph/training-split.js';
import type { OnnxBatchSource } from './onnx-fit-options.js';
import type { ResolvedTrainerOptions } from './onnx-trainer-options.js';
import { dropoutMask } from './seeded-random.js';
import { fromOnnxLayout, initialStateValues, sizeOf } from './state-layout.js';
import type { OrtTensor, TensorConstructor, TrainerSessions } from './trainer-sessions.js';

/** What a training step reports: the batch's mean loss and how many of its images were classified right. @internal */
export interface StepResult {
  loss: number;
  correct: number;
}

/**
 * The weights, moving statistics and optimizer slots of one training run, as ONNX Runtime
 * tensors fed to every step, and the steps themselves: a training step replaces the whole
 * state at once (or, on failure, none of it); evaluation reads it. Frozen variables are not
 * state: the graphs hold them as constants, so each step and evaluation first checks that the
 * model's trainable set is still the one the sessions were built for, and rebuilds them when
 * it changed (see {@link TrainingEngine.rebuildIfSplitChanged}). @internal
 */
export class TrainingEngine {
  /** Training steps done so far. */
  step = 0;
  /** The epoch a learning-rate schedule sees. */
  epoch = 0;
  private state: Map<string, OrtTensor>;
  /** Buffers of the previous state, which the next step writes its outputs into. */
  private spare = new Map<string, OrtTensor>();
  private readonly imageSize: number;
  /** The state entries of the current training graphs (every batch size has the same). */
  private entries: StateEntry[];
  /** The `trainingSplit` key the current sessions were built for. */
  private split: string;
  /** Sessions rebuilt because the model's trainable set changed (for tests and benches). */
  rebuilds = 0;

  constructor(
    private readonly model: LayersModel,
    private readonly sessions: TrainerSessions,
    private readonly Tensor: TensorConstructor,
    private readonly settings: ResolvedTrainerOptions,
    readonly spec: BatchSpec,
    /** The first training graph: its state entries and the split it was built for. */
    first: Pick<TrainingGraph, 'state' | 'split'>,
    private readonly random: () => number,
    /** onnxruntime-node fills pre-allocated outputs; onnxruntime-web returns them unfilled. */
    private readonly fillsPreallocatedOutputs: boolean,
  ) {
    this.entries = first.state;
    this.split = first.split;
    this.state = this.tensorsOf(first.state, initialStateValues(first.state));
    const [height, width, channels] = spec.inputShape;
    this.imageSize = height * width * channels;
  }

  /** One step on a prepared batch; replaces the state only when the loss is finite. */
  async trainStep(images: Float32Array, labels: Float32Array | BigInt64Array, batch: number): Promise<StepResult> {
    const { Tensor, settings, spec } = this;
    await this.rebuildIfSplitChanged(batch);
    const { session, graph } = await this.sessions.training(batch);
    const rate = settings.learningRate(this.epoch, this.step);
    if (!(typeof rate === 'number' && Number.isFinite(rate) && rate >= 0)) {
      throw new XceptionTrainingError(`the learning rate schedule returned ${rate} at epoch ${this.epoch}, step ${this.step}; it must return a finite number ≥ 0.`);
    }
    const feeds: Record<string, unknown> = {};
    for (const entry of graph.state) feeds[entry.input] = this.state.get(entry.input);
    feeds[graph.images] = new Tensor('float32', images, [batch, ...spec.inputShape]);
    feeds[graph.labels] = this.labelTensor(labels, batch);
    feeds[graph.learningRate] = new Tensor('float32', Float32Array.of(rate), []);
    for (const mask of graph.dropoutMasks) {
      const dims = mask.shape.map((d) => (d === 'batch' ? batch : d));
      feeds[mask.input] = new Tensor('float32', dropoutMask(dims, mask.rate, this.random), dims);
    }
    // onnxruntime-node writes the new state into the spare buffers (pre-allocated outputs): no
    // allocation per step. onnxruntime-web returns pre-allocated CPU outputs unfilled: it allocates.
    const fetches: Record<string, unknown> = { [graph.loss]: null, [graph.logits]: null, [graph.stateSum]: null };
    for (const entry of graph.state) {
      if (entry.output === entry.input) continue;
      if (!this.fillsPreallocatedOutputs) {
        fetches[entry.output] = null;
        continue;
      }
      let buffer = this.spare.get(entry.input);
      if (!buffer || buffer.dims.join(',') !== entry.shape.join(',')) buffer = new Tensor('float32', new Float32Array(sizeOf(entry.shape)), entry.shape);
      fetches[entry.output] = buffer;
    }
    const outputs = await session.run(feeds, fetches);
    const loss = Number((outputs[graph.loss]!.data as Float32Array)[0]);
    if (!Number.isFinite(loss)) {
      throw new XceptionTrainingError(
        `the loss became ${loss} at step ${this.step} (learning rate ${rate}); the step was not applied and the state is as before it. ` +
          'If earlier steps were accepted with a high learning rate, the weights may have diverged already: lower the learning rate and start again from a checkpoint.',
      );
    }
    const stateSum = Number((outputs[graph.stateSum]!.data as Float32Array)[0]);
    if (!Number.isFinite(stateSum)) {
      throw new XceptionTrainingError(
        `step ${this.step} (learning rate ${rate}, loss ${loss}) produced non-finite weights, moving statistics or optimizer state; ` +
          'the step was not applied and the state is as before it. Lower the learning rate.',
      );
    }
    const next = new Map(this.state);
    const freed = new Map<string, OrtTensor>();
    for (const entry of graph.state) {
      if (entry.output === entry.input) continue;
      next.set(entry.input, outputs[entry.output]!);
      freed.set(entry.input, this.state.get(entry.input)!);
    }
    this.state = next;
    this.spare = freed;
    this.step++;
    return { loss, correct: countCorrect(outputs[graph.logits]!.data as Float32Array, labels, batch, spec.classes) };
  }

  /** Logits of images in runs of `batch`, the last one padded. */
  async logits(images: Float32Array, count: number, batch: number): Promise<Float32Array> {
    const { Tensor, spec, imageSize } = this;
    await this.rebuildIfSplitChanged(this.settings.batchSize);
    const { session, graph } = await this.sessions.evaluation(batch);
    const logits = new Float32Array(count * spec.classes);
    const zeros = spec.sparse ? new BigInt64Array(batch) : new Float32Array(batch * spec.classes);
    for (let start = 0; start < count; start += batch) {
      const n = Math.min(batch, count - start);
      const chunk = new Float32Array(batch * imageSize);
      chunk.set(images.subarray(start * imageSize, (start + n) * imageSize));
      const feeds: Record<string, unknown> = {};
      for (const entry of graph.state) feeds[entry.input] = this.state.get(entry.input);
      feeds[graph.images] = new Tensor('float32', chunk, [batch, ...spec.inputShape]);
      feeds[graph.labels] = this.labelTensor(zeros, batch);
      const outputs = await session.run(feeds);
      logits.set((outputs[graph.logits]!.data as Float32Array).subarray(0, n * spec.classes), start * spec.classes);
    }
    const bad = logits.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new XceptionTrainingError(
        `the model's output for image ${Math.floor(bad / spec.classes)} is ${logits[bad]} (class ${bad % spec.classes}) after ${this.step} steps: ` +
          'the weights have diverged, typically from too high a learning rate. Lower it and start again from a checkpoint.',
      );
    }
    return logits;
  }

  /** Summed loss and correct count over labelled arrays, with BatchNormalization in inference mode. */
  async evaluateArrays(data: LabelledArrays, batch: number): Promise<{ lossSum: number; correct: number; count: number }> {
    const { count, labels } = data;
    const logits = await this.logits(data.images, count, batch);
    return {
      lossSum: crossEntropySum(logits, labels, count, this.spec.classes, this.settings.loss.labelSmoothing ?? 0),
      correct: countCorrect(logits, labels, count, this.spec.classes),
      count,
    };
  }

  /** Mean loss and accuracy over tensors or a batch source. */
  async evaluate(source: OnnxBatchSource | [Tensor, Tensor], batch: number): Promise<{ loss: number; acc: number }> {
    if (Array.isArray(source)) {
      const [images, labels] = source;
      const result = await this.evaluateArrays(readBatch(images, labels, 'validationData', this.spec), batch);
      return { loss: result.lossSum / result.count, acc: result.correct / result.count };
    }
    let [lossSum, correct, count] = [0, 0, 0];
    const iterator = await source.iterator();
    for (let item = await iterator.next(); !item.done; item = await iterator.next()) {
      const { xs, ys } = item.value;
      try {
        const data = readBatch(xs, ys, 'batch', this.spec);
        const result = await this.evaluateArrays(data, Math.max(batch, data.count));
        (lossSum += result.lossSum), (correct += result.correct), (count += result.count);
      } finally {
        xs.dispose();
        ys.dispose();
      }
    }
    if (count === 0) throw new XceptionTrainingError('evaluate: the batch source yielded no batches.');
    return { loss: lossSum / count, acc: correct / count };
  }

  /** Writes the trained weights and moving statistics into the model's variables: all of them, or none. */
  async syncToModel(): Promise<void> {
    const { model } = this;
    const entries = this.entries.filter((e) => e.variable && (e.kind === 'trainable' || e.kind === 'movingStatistic'));
    if (isDisposedModel(model)) {
      throw new XceptionTrainingError(
        `syncToModel: the model '${model.name}' has been disposed; the trainer's weights have nowhere to go (predict and evaluate still work).`,
      );
    }
    // All values are computed and checked before any variable is written: all of them change, or none.
    const values = entries.map((entry) => {
      const variable = entry.variable!;
      const { data, shape } = fromOnnxLayout(this.state.get(entry.input)!.data as Float32Array, entry);
      const bad = firstNonFinite(data);
      if (bad >= 0) {
        throw new XceptionTrainingError(`syncToModel: ${variable.name} holds ${data[bad]} at element ${bad}; no weight of the model was changed.`);
      }
      if (shape.join(',') !== variable.shape.join(',')) {
        throw new XceptionTrainingError(`syncToModel: ${variable.name} has shape [${variable.shape}], but its ONNX state ${entry.input} maps to [${shape}].`);
      }
      return data;
    });
    entries.forEach((entry, i) => {
      const value = tensor(values[i]!, entry.variable!.shape as number[], 'float32');
      entry.variable!.write(value);
      value.dispose();
    });
  }

  /**
   * When the model's trainable set changed since the sessions were built (`freezeBackbone`,
   * `unfreeze`, `layer.trainable = …` between or during `fit` calls), rebuilds them for the new
   * set: the trained values are first written into the model (so that newly frozen variables
   * become constants with their trained values), every session is released, the training graph
   * at `batch` is built anew, and the state carries over each weight, moving statistic and
   * optimizer slot that is still state (same name, kind and shape), and the step count; newly
   * trained weights start from the model with fresh optimizer slots. Costs a graph build, a
   * session creation and a first run (1–5 s for the Keras Xception at 150×150; see
   * `bench/parts/onnx-training.mjs --rebuild`); nothing but a scan of the layers when the set is unchanged.
   */
  async rebuildIfSplitChanged(batch: number): Promise<void> {
    if (trainingSplit(this.model).key === this.split) return;
    await this.syncToModel();
    await this.sessions.releaseAll();
    const { graph } = await this.sessions.training(batch);
    const kept = new Map<string, OrtTensor>();
    const fresh: StateEntry[] = [];
    for (const entry of graph.state) {
      const old = this.entries.find((e) => e.input === entry.input);
      const tensor = this.state.get(entry.input);
      if (old && tensor && old.kind === entry.kind && old.shape.join(',') === entry.shape.join(',')) kept.set(entry.input, tensor);
      else fresh.push(entry);
    }
    this.state = new Map([...kept, ...this.tensorsOf(fresh, initialStateValues(fresh))]);
    this.spare = new Map();
    this.entries = graph.state;
    this.split = graph.split;
    this.rebuilds++;
  }

  /** Drops the state (the trainer was disposed). */
  clear(): void {
    this.state = new Map();
    this.spare = new Map();
  }

  private tensorsOf(entries: StateEntry[], values: Map<string, Float32Array>): Map<string, OrtTensor> {
    return new Map(entries.map((entry) => [entry.input, new this.Tensor('float32', values.get(entry.input)!, entry.shape)]));
  }

  private labelTensor(labels: Float32Array | BigInt64Array, batch: number): OrtTensor {
    // Sparse ids travel as float32 (the graph's WebGPU-friendly label type; exact up to 2^24 classes).
    return labels instanceof BigInt64Array
      ? new this.Tensor('float32', Float32Array.from(labels, Number), [batch])
      : new this.Tensor('float32', labels, [batch, this.spec.classes]);
  }
}
