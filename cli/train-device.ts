/*
 * `train --device`: which ONNX Runtime device trains (createOnnxTrainer's
 * `device`), and what the trainer picked.
 */
import type { OnnxDevice, OnnxTrainer, OnnxTrainerOptions } from '../src/onnx/index.js';

/** The devices `--device` names. */
export const TRAIN_DEVICES = ['auto', 'cpu', 'webgpu', 'cuda'] as const satisfies readonly OnnxDevice[];

/** One of {@link TRAIN_DEVICES}. */
export type TrainDevice = (typeof TRAIN_DEVICES)[number];

/** createOnnxTrainer's options for `device`. */
export function trainerDeviceOptions(device: TrainDevice): Pick<OnnxTrainerOptions, 'device'> {
  return { device };
}

/** The device the trainer picked, for the table: `cpu`, `webgpu` or `cuda`. */
export function deviceOf(trainer: OnnxTrainer): string {
  return trainer.device.device;
}
