// Run by a test in a child process, so that a loader stuck in a synchronous
// loop can be killed by the test's time limit instead of hanging the suite:
// `node --import tsx test/helpers/load-keras-in-child.ts <entry> <file>…`
// prints one JSON line per file: the error's name and message, or 'loaded'.
import * as tf from '@tensorflow/tfjs';
import { inspectKerasFile, loadKerasModel } from '../../src/index.js';

await tf.setBackend('cpu');
const [entry, ...files] = process.argv.slice(2);
for (const file of files) {
  const before = tf.memory().numTensors;
  try {
    if (entry === 'inspect') {
      const summary = await inspectKerasFile(file);
      console.log(JSON.stringify({ outcome: 'inspected', buildError: summary.buildError, layers: summary.layers.length }));
    } else {
      (await loadKerasModel(file)).dispose();
      console.log(JSON.stringify({ outcome: 'loaded' }));
    }
  } catch (error) {
    const { name, message } = error as Error;
    console.log(JSON.stringify({ outcome: 'threw', name, message, leaked: tf.memory().numTensors - before }));
  }
}
