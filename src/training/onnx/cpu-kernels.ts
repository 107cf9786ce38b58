// The CPU flavour of the training and evaluation graphs: what a graph that ONNX Runtime's CPU
// provider alone runs may use beyond standard ONNX, each measured faster there (bench/parts/
// onnx-training-step.ts, onnx-op-variants.ts).
import type { ConvFormulation } from './graph/conv-gradients.js';
import { GraphWriter } from './graph/graph-writer.js';
import { NCHWC } from './graph/nchwc-depthwise.js';
import type { OnnxRuntime } from '../../onnx/onnx-classifier.js';

const blocks = new WeakMap<object, Promise<number | null>>();

/**
 * ONNX Runtime's NCHWc block on this machine (8 with AVX2, 16 with AVX-512: MLAS decides at run
 * time), read from `ReorderInput`'s output for a four-channel input; `null` when this build of
 * ONNX Runtime has no NCHWc kernels. Probed once per `ort` module. @internal
 */
export function nchwcBlockSize(ort: OnnxRuntime): Promise<number | null> {
  let block = blocks.get(ort);
  if (!block) {
    block = (async () => {
      try {
        const g = new GraphWriter();
        g.output(g.domainOp(NCHWC, 'ReorderInput', [g.input('x', [1, 4, 1, 1])], 'blocked'), 'blocked_out', [1, -1, 1, 1]);
        const session = await ort.InferenceSession.create(g.encode('nchwc_block', 'xception-ts: NCHWc block probe'), { executionProviders: ['cpu'], logSeverityLevel: 3 });
        try {
          const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) });
          const size = Number(out['blocked_out']!.dims[1]);
          return Number.isInteger(size) && size >= 4 && size % 4 === 0 ? size : null;
        } finally {
          await (session as { release?: () => Promise<void> }).release?.();
        }
      } catch {
        return null;
      }
    })();
    blocks.set(ort, block);
  }
  return block;
}

/**
 * The formulation for a graph that ONNX Runtime's CPU provider alone runs: the max-pool gradient
 * through MaxPool's Indices, depthwise convolutions on the NCHWc kernel. Other providers get the
 * standard-operator graph. @internal
 */
export async function cpuFormulation(ort: OnnxRuntime): Promise<Partial<ConvFormulation>> {
  return { maxPoolGradient: 'indices', nchwcBlock: await nchwcBlockSize(ort) };
}
