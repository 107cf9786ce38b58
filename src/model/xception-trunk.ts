import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { alignedXception } from './aligned-xception.js';
import { entryFlow } from './entry-flow.js';
import { exitFlow } from './exit-flow.js';
import { withBatchNormMomentum } from './layers.js';
import { middleFlow } from './middle-flow.js';
import { miniXception } from './mini-xception.js';
import type { ClassicXceptionPreset } from './presets.js';
import type { ResolvedTrunkOptions } from './xception-options.js';

/** A feature map the trunk exposes: the layer that produces it, its reduction and its channels. @internal */
export interface FeatureTap {
  name: string;
  reduction: number;
  channels: number;
}

/**
 * Builds the feature extractor of any preset on `image` (no pooling, no
 * classifier) and lists its multi-scale taps, one per reduction 2, 4, 8, 16,
 * 32 (capped at the output stride). Layers are created inside the caller's
 * build scope. @internal
 */
export function buildTrunk(image: SymbolicTensor, options: ResolvedTrunkOptions): { output: SymbolicTensor; taps: FeatureTap[] } {
  return withBatchNormMomentum(options.batchNormMomentum, () => buildTrunkLayers(image, options));
}

function buildTrunkLayers(image: SymbolicTensor, options: ResolvedTrunkOptions): { output: SymbolicTensor; taps: FeatureTap[] } {
  const { preset, outputStride } = options;
  if (preset.family === 'aligned') return alignedXception(image, preset, outputStride);
  if (preset.family === 'mini') return miniXception(image, preset);

  const repeats = options.middleFlowRepeats;
  const entryUnits = preset.entryFilters.length;
  const middleReduction = 2 ** (1 + entryUnits);
  const exitBlock = 2 + entryUnits + repeats;
  let x = entryFlow(image, { preset: preset.name, outputStride });
  x = middleFlow(x, { preset: preset.name, repeats, outputStride, inputReduction: middleReduction });
  x = exitFlow(x, { preset: preset.name, firstBlock: exitBlock, outputStride, inputReduction: middleReduction });
  return { output: x, taps: classicTaps(preset, exitBlock, outputStride) };
}

/**
 * The input of every downsampling unit (after its leading ReLU in the
 * pre-activation style, as timm's legacy Xception taps it) and the final
 * feature map: for 'keras' 64/128/256/728/2048 channels at reductions
 * 2/4/8/16/32.
 */
function classicTaps(preset: ClassicXceptionPreset, exitBlock: number, outputStride: number): FeatureTap[] {
  const unitInput = (block: number) =>
    preset.blockActivation === 'pre' && block > 2
      ? `block${block}_sepconv1_act`
      : block === 2
        ? 'block1_conv2_act'
        : `block${block - 1}_add`;
  const entryBlocks = preset.entryFilters.map((_, unit) => unit + 2);
  const widthsBefore = [preset.stemFilters[1], ...preset.entryFilters];
  const taps: FeatureTap[] = entryBlocks.map((block, unit) => ({
    name: unitInput(block),
    reduction: Math.min(2 ** (unit + 1), outputStride),
    channels: widthsBefore[unit]!,
  }));
  const entryReduction = 2 ** (1 + entryBlocks.length);
  taps.push({ name: unitInput(exitBlock), reduction: Math.min(entryReduction, outputStride), channels: widthsBefore[entryBlocks.length]! });
  taps.push({
    name: `block${exitBlock + 1}_sepconv2_act`,
    reduction: Math.min(entryReduction * 2, outputStride),
    channels: preset.exitConvFilters[1],
  });
  return taps;
}
