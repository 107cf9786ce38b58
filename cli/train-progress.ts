/*
 * `train`'s progress: on a terminal a bar per epoch redrawn in place (images/s,
 * ETA), then one line per epoch; elsewhere the line only.
 */
import type { OnnxTrainingLogs } from '../src/onnx/index.js';

/** Where the progress goes. */
export interface ProgressOutput {
  /** Whether `write` is a terminal (the bar is redrawn with `\r`). */
  tty: boolean;
  /** Raw text (no newline added). */
  write(text: string): void;
}

/** The callbacks that draw the progress. */
export interface TrainingProgress {
  epochBegin(epoch: number): void;
  batchEnd(batch: number, logs: OnnxTrainingLogs): void;
  epochEnd(epoch: number, logs: OnnxTrainingLogs): void;
}

/** `m:ss`. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A progress display for `epochs` epochs of `stepsPerEpoch` batches. */
export function trainingProgress(output: ProgressOutput, epochs: number, stepsPerEpoch: number): TrainingProgress {
  let started = 0;
  let images = 0;
  let [lossSum, correct] = [0, 0];
  const elapsed = () => (performance.now() - started) / 1000;
  return {
    epochBegin() {
      started = performance.now();
      images = lossSum = correct = 0;
    },
    batchEnd(batch, logs) {
      const size = logs.size ?? 0;
      images += size;
      lossSum += logs.loss * size;
      correct += logs.acc * size;
      if (!output.tty) return;
      const done = batch + 1;
      const width = 24;
      const filled = Math.min(width, Math.round((done / stepsPerEpoch) * width));
      const rate = images / Math.max(elapsed(), 1e-9);
      const eta = (elapsed() / done) * Math.max(stepsPerEpoch - done, 0);
      output.write(
        `\r[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${stepsPerEpoch} loss ${(lossSum / images).toFixed(4)} acc ${(correct / images).toFixed(4)} ` +
          `${rate.toFixed(0)} images/s ETA ${clock(eta)} `,
      );
    },
    epochEnd(epoch, logs) {
      const validation = logs.val_loss === undefined ? '' : ` val_loss ${logs.val_loss.toFixed(4)} val_acc ${logs.val_acc!.toFixed(4)}`;
      const rate = images / Math.max(elapsed(), 1e-9);
      output.write(
        `${output.tty ? '\r\x1b[K' : ''}Epoch ${epoch + 1}/${epochs}: loss ${logs.loss.toFixed(4)} acc ${logs.acc.toFixed(4)}${validation} ` +
          `(${elapsed().toFixed(1)} s, ${rate.toFixed(0)} images/s)\n`,
      );
    },
  };
}
