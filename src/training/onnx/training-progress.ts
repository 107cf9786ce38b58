import type { OnnxTrainingLogs } from './onnx-fit-options.js';

/** The progress display of `fit` (`verbose` 1 or 2); does nothing at 0. @internal */
export interface TrainingProgress {
  epochBegin(epoch: number): void;
  batchEnd(batch: number, loss: number, acc: number): void;
  epochEnd(epoch: number, logs: OnnxTrainingLogs): void;
}

/**
 * `verbose` 1: a bar redrawn in place on a terminal (`\r`), then one line per
 * epoch; 2 (or 1 off a terminal): the line only. `write` defaults to
 * `process.stderr` in Node, else `console.log` (one call per line). @internal
 */
export function progressDisplay(verbose: 0 | 1 | 2, write: ((text: string) => void) | undefined, epochs: number, stepsPerEpoch: number | undefined): TrainingProgress {
  const stderr = typeof process !== 'undefined' ? (process.stderr as { write?: (t: string) => void; isTTY?: boolean } | undefined) : undefined;
  const out = write ?? (stderr?.write ? (text: string) => stderr.write!(text) : (text: string) => console.log(text.replace(/\n$/, '')));
  const live = verbose === 1 && (write ? false : stderr?.isTTY === true);
  let started = 0;
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  return {
    epochBegin() {
      started = performance.now();
    },
    batchEnd(batch, loss, acc) {
      if (!live) return;
      const done = batch + 1;
      const width = 24;
      const filled = stepsPerEpoch ? Math.round((done / stepsPerEpoch) * width) : 0;
      const bar = stepsPerEpoch ? `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${stepsPerEpoch}` : `${done} batches`;
      out(`\r${bar} loss ${loss.toFixed(4)} acc ${acc.toFixed(4)} ${seconds()} s `);
    },
    epochEnd(epoch, logs) {
      if (verbose === 0) return;
      const validation = logs.val_loss === undefined ? '' : ` val_loss ${logs.val_loss.toFixed(4)} val_acc ${logs.val_acc!.toFixed(4)}`;
      out(`${live ? '\r\x1b[K' : ''}Epoch ${epoch + 1}/${epochs}: loss ${logs.loss.toFixed(4)} acc ${logs.acc.toFixed(4)}${validation} (${seconds()} s)\n`);
    },
  };
}
