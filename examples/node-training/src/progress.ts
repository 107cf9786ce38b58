// A progress bar on stderr while an epoch runs (a TTY redraws one line; a log gets one line per
// epoch), then a summary line with the validation metrics.
import type * as tf from '@tensorflow/tfjs';

export function progressBar(options: { epochs: number; stepsPerEpoch: number; batchSize: number; write: (text: string) => void; tty: boolean }): tf.CustomCallbackArgs {
  const { epochs, stepsPerEpoch, batchSize, write, tty } = options;
  let epochStart = 0;
  let epochNumber = 0;
  const format = (logs?: tf.Logs) =>
    Object.entries(logs ?? {})
      .filter(([k]) => k !== 'batch' && k !== 'size')
      .map(([k, v]) => `${k} ${v.toFixed(4)}`)
      .join('  ');
  return {
    onEpochBegin: async (epoch) => {
      epochStart = performance.now();
      epochNumber = epoch + 1;
    },
    onBatchEnd: async (batch, logs) => {
      if (!tty) return;
      const done = batch + 1;
      const width = 30;
      const filled = Math.round((done / stepsPerEpoch) * width);
      const seconds = (performance.now() - epochStart) / 1000;
      const rate = (done * batchSize) / seconds;
      write(`\repoch ${epochNumber}/${epochs} [${'#'.repeat(filled)}${'.'.repeat(Math.max(0, width - filled))}] ${done}/${stepsPerEpoch}  ${format(logs)}  ${rate.toFixed(1)} img/s `);
    },
    onEpochEnd: async (epoch, logs) => {
      const seconds = (performance.now() - epochStart) / 1000;
      write(`${tty ? '\r\x1b[K' : ''}epoch ${epoch + 1}/${epochs}  ${format(logs)}  ${seconds.toFixed(1)} s\n`);
    },
  };
}
