/*
 * `train --device`: which ONNX Runtime device trains. The ONE place that maps
 * it onto createOnnxTrainer's options: once createOnnxTrainer takes
 * `device: 'auto' | 'cpu' | 'webgpu' | 'cuda'` and reports `trainer.device`
 * (issue 19), trainerDeviceOptions returns `{ device }` and deviceOf reads
 * `trainer.device`.
 */
import type { OnnxTrainer, OnnxTrainerOptions } from '../src/onnx/index.js';

/** The devices `--device` names. */
export const TRAIN_DEVICES = ['auto', 'cpu', 'webgpu', 'cuda'] as const;

/** One of {@link TRAIN_DEVICES}. */
export type TrainDevice = (typeof TRAIN_DEVICES)[number];

/** createOnnxTrainer's options for `device`. */
export function trainerDeviceOptions(device: TrainDevice): Pick<OnnxTrainerOptions, 'executionProviders'> {
  // Until createOnnxTrainer takes `device`: its execution provider by name ('auto' and 'cpu': ONNX Runtime's default, the CPU).
  return device === 'cuda' || device === 'webgpu' ? { executionProviders: [device] } : {};
}

/** The device the trainer picked (its `device` when it reports one). */
export function deviceOf(trainer: OnnxTrainer, asked: TrainDevice): string {
  const reported = (trainer as { device?: unknown }).device;
  return typeof reported === 'string' ? reported : asked === 'auto' ? 'cpu' : asked;
}
