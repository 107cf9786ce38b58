/*
 * `xception-ts train <folder | idx:DIR>`: the course's experiment in one
 * command. Trains a preset on ONNX Runtime (createOnnxTrainer), checkpoints
 * after every epoch and on Ctrl-C, then writes the history, its chart, the
 * model (.keras and ONNX) and the class names into --out and prints the
 * table of the runs kept there.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countParameters, plotHistory, saveKerasModel, unfreeze, XceptionDeviceError, XceptionError } from '../src/index.js';
import { createOnnxTrainer, exportOnnx, type LearningRateSchedule, type OnnxTrainer, type OnnxTrainingLogs } from '../src/onnx/index.js';
import { UsageError, writingTo } from './cli-errors.js';
import type { CliFlags } from './flags.js';
import type { CliIo } from './run-cli.js';
import { runsTable, withRun, type RunRow } from './runs-table.js';
import { inTrainFlagTerms, loadTrainData, type TrainData } from './train-data.js';
import { deviceOf, trainerDeviceOptions } from './train-device.js';
import { buildTrainModel, loadCheckpointModel } from './train-model.js';
import { batchNormMomentum, trainSettings, type TrainSettings } from './train-options.js';
import { trainingProgress, type ProgressOutput } from './train-progress.js';
import { guardOut, outputPaths, readRuns, readState, saveCheckpoint, writeAtomically, type TrainState } from './train-state.js';

/** The exit code of a run stopped by Ctrl-C (128 + SIGINT), after its checkpoint is written. */
export const INTERRUPTED_EXIT_CODE = 130;

/** Runs `train`; resolves to the exit code (0, or 130 after Ctrl-C). */
export async function trainCommand(args: string[], values: CliFlags, io: CliIo): Promise<number> {
  try {
    return await train(args, values, io);
  } catch (error) {
    throw inTrainFlagTerms(error);
  }
}

async function train(args: string[], values: CliFlags, io: CliIo): Promise<number> {
  const asked = trainSettings(args[0]!, values);
  guardOut(asked);
  const previous = asked.resume ? await readState(asked.out) : undefined;
  const settings = previous ? resumedSettings(previous, asked, values) : asked;
  const data = await loadTrainData(settings);
  if (settings.classes !== undefined && settings.classes !== data.classNames.length) {
    throw new UsageError(`--classes ${settings.classes} does not match ${settings.source.path}: it holds ${data.classNames.length} classes (${data.classNames.join(', ')}).`, 'train');
  }
  if (previous && previous.classNames.join('\n') !== data.classNames.join('\n')) {
    throw new XceptionError(`--resume: ${settings.source.path} now holds the classes ${data.classNames.join(', ')}, but the checkpoint was trained on ${previous.classNames.join(', ')}.`);
  }
  const paths = outputPaths(settings.out);
  const momentum = batchNormMomentum(settings, data.train.size);
  const model = previous
    ? await loadCheckpointModel(paths.checkpointModel, settings, previous.epoch)
    : await buildTrainModel(settings, data.classNames.length, momentum);
  try {
    const params = countParameters(model);
    io.err(`Data: ${data.summary}.`);
    io.err(
      `Model: ${settings.preset} at ${settings.inputSize}×${settings.inputSize}×${settings.channels}, ${params.total.toLocaleString('en-US')} parameters ` +
        `(${params.trainable.toLocaleString('en-US')} trainable)${previous ? '' : `, BatchNormalization momentum ${momentum}`}.`,
    );
    const state: TrainState = previous ?? {
      id: randomUUID(),
      started: new Date().toISOString(),
      epoch: 0,
      history: {},
      classNames: [...data.classNames],
      seconds: 0,
      settings,
    };
    if (previous) io.err(`Resuming after epoch ${previous.epoch} from ${paths.checkpointState}.`);
    const { device, interrupted } = await trainPhases(model, data, settings, state, io);
    await writeOutputs(model, state, settings, params.total, device, io);
    if (interrupted) {
      io.err(`Interrupted: the checkpoint holds the weights after ${state.epoch} complete epochs and the batches since; continue with --resume.`);
      return INTERRUPTED_EXIT_CODE;
    }
    return 0;
  } finally {
    model.dispose();
  }
}

/** The settings of a resumed run: the checkpoint's, with --epochs and --device from the command line. */
function resumedSettings(previous: TrainState, asked: TrainSettings, values: CliFlags): TrainSettings {
  const stored = previous.settings;
  for (const [flag, key] of [['preset', 'preset'], ['input-size', 'inputSize'], ['channels', 'channels'], ['weights', 'weights']] as const) {
    if (values[flag] !== undefined && String(asked[key]) !== String(stored[key])) {
      throw new UsageError(`--resume continues the run in ${asked.out}, trained with --${flag} ${String(stored[key])}; drop --${flag} ${String(values[flag])} (or start a new run).`, 'train');
    }
  }
  return {
    ...stored,
    source: asked.source,
    out: asked.out,
    resume: true,
    device: asked.device,
    epochs: values.epochs === undefined ? stored.epochs : asked.epochs,
    fineTuneEpochs: values['fine-tune-epochs'] === undefined ? stored.fineTuneEpochs : asked.fineTuneEpochs,
  };
}

/**
 * Trains the head phase (up to --epochs) and, with --fine-tune-epochs, the
 * fine-tuning phase (backbone unfrozen but BatchNormalization, Adam at --lr/100,
 * keras.io's recipe). Checkpoints after every epoch; Ctrl-C stops after the
 * current batch.
 */
async function trainPhases(model: LayersModel, data: TrainData, settings: TrainSettings, state: TrainState, io: CliIo): Promise<{ device: string; interrupted: boolean }> {
  const output: ProgressOutput = io.progress ?? { tty: false, write: (text) => io.err(text.replace(/\n$/, '')) };
  let trainer: OnnxTrainer | undefined;
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
    if (trainer) trainer.stopTraining = true;
    io.err('Stopping after this batch and writing a checkpoint (Ctrl-C again quits at once) …');
  };
  process.once('SIGINT', onInterrupt);
  let device: string = settings.device === 'auto' ? 'cpu' : settings.device;
  let reported = 0;
  try {
    const phases = [
      { until: settings.epochs, lr: settings.lr, fineTune: false },
      { until: settings.epochs + settings.fineTuneEpochs, lr: settings.lr / 100, fineTune: true },
    ];
    for (const phase of phases) {
      if (state.epoch >= phase.until || interrupted) continue;
      if (phase.fineTune) {
        const { trainableParams } = unfreeze(model);
        io.err(`Fine-tuning: ${trainableParams.toLocaleString('en-US')} trainable parameters, Adam at ${phase.lr}, up to epoch ${phase.until}.`);
      }
      const stepsPerEpoch = data.train.size;
      let epochStartStep = 0;
      const schedule: LearningRateSchedule = (epoch, step) => {
        if (settings.schedule === 'constant') return phase.lr;
        const total = phase.until * stepsPerEpoch;
        const position = Math.min(epoch * stepsPerEpoch + (step - epochStartStep), total);
        return 0.5 * phase.lr * (1 + Math.cos((Math.PI * position) / total));
      };
      trainer = await createOnnxTrainer(model, {
        optimizer: { type: 'adam', learningRate: schedule },
        batchSize: settings.batchSize,
        seed: settings.seed,
        sessionOptions: { logSeverityLevel: 3 }, // ONNX Runtime's own warnings (unused initializers) are not the user's business
        ...trainerDeviceOptions(settings.device),
      }).catch((error: unknown) => {
        // A device that is not there is a problem of this machine (exit 1), not of the command line.
        if (error instanceof XceptionDeviceError) throw new XceptionError(`--device ${settings.device}: ${error.message}`, { cause: error });
        throw error;
      });
      device = deviceOf(trainer);
      if (!phase.fineTune) io.err(`Device: ${device}${trainer.device.adapter ? ` (${trainer.device.adapter})` : ''}: ${trainer.device.reason}`);
      if (interrupted) trainer.stopTraining = true;
      const progress = trainingProgress(output, phase.until, stepsPerEpoch);
      let epochStarted = 0;
      const active = trainer;
      try {
        await active.fit(data.train, {
          epochs: phase.until,
          initialEpoch: state.epoch,
          ...(data.validation ? { validationData: data.validation } : {}),
          callbacks: {
            onEpochBegin: (epoch) => {
              progress.epochBegin(epoch);
              epochStartStep = active.step;
              epochStarted = performance.now();
            },
            onBatchEnd: (batch, logs) => progress.batchEnd(batch, logs),
            onEpochEnd: async (epoch, logs) => {
              state.seconds += (performance.now() - epochStarted) / 1000;
              if (!interrupted) {
                // An epoch cut short by Ctrl-C is not an epoch of the history; its weights are in the checkpoint.
                progress.epochEnd(epoch, logs);
                recordEpoch(state, logs);
                state.epoch = epoch + 1;
              }
              await active.syncToModel();
              await writingTo(settings.out, async () => saveCheckpoint(settings.out, await saveKerasModel(model), state));
              reported = reportSkipped(data, reported, io);
            },
          },
        });
      } finally {
        await active.dispose();
      }
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
  return { device, interrupted };
}

/** Appends an epoch's logs under Keras' History keys. */
function recordEpoch(state: TrainState, logs: OnnxTrainingLogs): void {
  const keys: [keyof OnnxTrainingLogs, string][] = [['loss', 'loss'], ['acc', 'accuracy'], ['val_loss', 'val_loss'], ['val_acc', 'val_accuracy']];
  for (const [from, to] of keys) if (logs[from] !== undefined) (state.history[to] ??= []).push(logs[from]!);
}

/** One line per file skipped since `reported` (--skip-bad-files); returns the new count. */
function reportSkipped(data: TrainData, reported: number, io: CliIo): number {
  for (const file of data.skipped.slice(reported)) io.err(`Skipped ${file.path}: ${file.reason}`);
  return data.skipped.length;
}

/** history.json, history.svg, model.keras, model.onnx, classes.json and runs.json; prints the runs table. */
async function writeOutputs(model: LayersModel, state: TrainState, settings: TrainSettings, params: number, device: string, io: CliIo): Promise<void> {
  const paths = outputPaths(settings.out);
  const last = (key: string) => state.history[key]?.at(-1) ?? null;
  const row: RunRow = {
    id: state.id,
    started: state.started,
    data: settings.source.kind === 'idx' ? `idx:${settings.source.path}` : settings.source.path,
    preset: settings.preset,
    inputSize: settings.inputSize,
    params,
    loss: last('loss'),
    val_loss: last('val_loss'),
    accuracy: last('accuracy'),
    val_accuracy: last('val_accuracy'),
    epochs: state.epoch,
    minutes: state.seconds / 60,
    device,
  };
  const rows = withRun(await readRuns(settings.out), row);
  const title = `${settings.preset} ${settings.inputSize}×${settings.inputSize} on ${row.data} (${device})`;
  await writingTo(settings.out, async () => {
    await mkdir(settings.out, { recursive: true });
    await writeAtomically(paths.history, `${JSON.stringify(state.history, null, 2)}\n`);
    await writeAtomically(paths.chart, plotHistory(state.history, { title }));
    await writeAtomically(paths.keras, await saveKerasModel(model));
    await writeAtomically(paths.onnx, exportOnnx(model));
    await writeAtomically(paths.classes, `${JSON.stringify(state.classNames, null, 2)}\n`);
    await writeAtomically(paths.runs, `${JSON.stringify(rows, null, 2)}\n`);
  });
  io.err(`Wrote history.json, history.svg, model.keras, model.onnx, classes.json, runs.json and checkpoint/ in ${settings.out}.`);
  io.err(`Classify with it: xception-ts classify --model ${settings.out} <image…>`);
  io.out(runsTable(rows));
}
