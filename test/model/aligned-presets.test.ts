import { beforeAll, describe, expect, it } from 'vitest';
import { countParameters, createXception } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

// timm's block_cfg (timm/models/xception_aligned.py), written out independently
// of XCEPTION_PRESETS: [in, out (one or three), stride, noSkip].
type Cfg = [number, number | [number, number, number], number, boolean?];
const EXIT: Cfg[] = [[728, [728, 1024, 1024], 2], [1024, [1536, 1536, 2048], 1, true]];
const MIDDLE = (n: number): Cfg[] => Array.from({ length: n }, () => [728, 728, 1] as Cfg);
const TIMM: Record<'xception41' | 'xception65' | 'xception71', Cfg[]> = {
  xception41: [[64, 128, 2], [128, 256, 2], [256, 728, 2], ...MIDDLE(8), ...EXIT],
  xception65: [[64, 128, 2], [128, 256, 2], [256, 728, 2], ...MIDDLE(16), ...EXIT],
  xception71: [[64, 128, 2], [128, 256, 1], [256, 256, 2], [256, 728, 1], [728, 728, 2], ...MIDDLE(16), ...EXIT],
};

/** PyTorch's trainable parameter count (BN weight + bias; running stats are buffers). */
function timmTrainable(cfg: Cfg[], classes: number): { trainable: number; bnChannels: number } {
  let trainable = 3 * 3 * 3 * 32 + 2 * 32 + 3 * 3 * 32 * 64 + 2 * 64;
  let bnChannels = 32 + 64;
  for (const [cin, out, stride, noSkip] of cfg) {
    const outs = typeof out === 'number' ? [out, out, out] : out;
    let c = cin;
    for (const o of outs) {
      trainable += 9 * c + 2 * c + c * o + 2 * o; // depthwise + BN, pointwise + BN
      bnChannels += c + o;
      c = o;
    }
    if (!noSkip && (outs[2] !== cin || stride !== 1)) {
      trainable += cin * outs[2]! + 2 * outs[2]!;
      bnChannels += outs[2]!;
    }
  }
  return { trainable: trainable + 2048 * classes + classes, bnChannels };
}

describe('aligned Xception presets', () => {
  it.each([
    ['xception41', 26.97],
    ['xception65', 39.92],
    ['xception71', 42.34],
  ] as const)("%s: trainable parameters equal timm's (%sM)", (preset, millions) => {
    const model = createXception({ preset });
    const counts = countParameters(model);
    const { trainable, bnChannels } = timmTrainable(TIMM[preset], 1000);
    expect(counts.trainable).toBe(trainable);
    expect(Math.round(counts.trainable / 1e4) / 100).toBe(millions);
    expect(counts.nonTrainable).toBe(2 * bnChannels); // moving mean and variance of every BN
    expect(model.countParams()).toBe(counts.total);
    model.dispose();
  });

  it('exact counts: 26,969,560 / 39,916,312 / 42,338,736 trainable with 1000 classes', () => {
    for (const [preset, trainable] of [['xception41', 26_969_560], ['xception65', 39_916_312], ['xception71', 42_338_736]] as const) {
      const model = createXception({ preset });
      expect(countParameters(model).trainable).toBe(trainable);
      model.dispose();
    }
  });

  it('does not change its parameters with the output stride', () => {
    const counts = ([32, 16, 8] as const).map((outputStride) => {
      const model = createXception({ preset: 'xception71', includeTop: false, outputStride });
      const n = model.countParams();
      model.dispose();
      return n;
    });
    expect(new Set(counts).size).toBe(1);
  });

  it('names every layer deterministically, timm-style units as block{n}_sepconv{k}_{depthwise,pointwise}', () => {
    const a = createXception({ preset: 'xception41', includeTop: false });
    const b = createXception({ preset: 'xception41', includeTop: false });
    const names = a.layers.map((l) => l.name);
    expect(b.layers.map((l) => l.name)).toEqual(names);
    expect(names.slice(0, 8)).toEqual(['input', 'block1_conv1_pad', 'block1_conv1', 'block1_conv1_bn', 'block1_conv1_act', 'block1_conv2', 'block1_conv2_bn', 'block1_conv2_act']);
    expect(names).toEqual(expect.arrayContaining([
      'block2_residual_conv', 'block2_sepconv1_act', 'block2_sepconv1_depthwise', 'block2_sepconv1_depthwise_bn',
      'block2_sepconv1_pointwise', 'block2_sepconv1_pointwise_bn', 'block2_add',
      'block14_sepconv3_depthwise_act', 'block14_sepconv3_pointwise_act',
    ]));
    expect(names).not.toContain('block5_residual_conv'); // middle units add their input unchanged
    expect(names).not.toContain('block14_add'); // the last unit has no shortcut
    // Stride-2 3×3 convolutions: symmetric one-pixel padding, then 'valid' (DeepLab's fixed_padding, timm).
    expect(a.getLayer('block4_sepconv3_depthwise').getConfig()).toMatchObject({ strides: [2, 2], padding: 'valid' });
    expect(a.getLayer('block4_sepconv3_depthwise_pad').getConfig()).toMatchObject({ padding: [[1, 1], [1, 1]] });
    expect(a.getLayer('block1_conv1').getConfig()).toMatchObject({ strides: [2, 2], padding: 'valid' });
    expect(names[1]).toBe('block1_conv1_pad');
    expect(a.getLayer('block4_sepconv2_depthwise').getConfig()).toMatchObject({ strides: [1, 1], padding: 'same' });
    a.dispose();
    b.dispose();
  });

  it('refuses middleFlowRepeats, which only the classic presets have', () => {
    expect(() => createXception({ preset: 'xception65', middleFlowRepeats: 4 })).toThrow(
      "middleFlowRepeats applies to the classic presets ('keras', 'postact'); 'xception65' fixes its units (21 after the stem).",
    );
  });
});

// timm's pre-activation variants (PreXceptionModule), from their block_cfg: the
// same units as xception41 / xception65, the last one no_skip.
const TIMM_PREACT: Record<'xception41p' | 'xception65p', Cfg[]> = {
  xception41p: [[64, 128, 2], [128, 256, 2], [256, 728, 2], ...MIDDLE(8), ...EXIT],
  xception65p: [[64, 128, 2], [128, 256, 2], [256, 728, 2], ...MIDDLE(16), ...EXIT],
};

/** PreXceptionModule: BN(in) + ReLU, conv1 dw+pw, BN+ReLU, conv2, BN+ReLU, conv3; a bare 1×1 shortcut; bare stem conv 2. */
function timmPreactTrainable(cfg: Cfg[], classes: number): { trainable: number; bnChannels: number } {
  let trainable = 3 * 3 * 3 * 32 + 2 * 32 + 3 * 3 * 32 * 64;
  let bnChannels = 32;
  for (const [cin, out, stride, noSkip] of cfg) {
    const outs = typeof out === 'number' ? [out, out, out] : out;
    trainable += 2 * cin; // the unit's norm
    bnChannels += cin;
    let c = cin;
    outs.forEach((o, k) => {
      if (k > 0) {
        trainable += 2 * c; // conv{2,3}.norm
        bnChannels += c;
      }
      trainable += 9 * c + c * o; // conv_dw + conv_pw, no bias
      c = o;
    });
    if (!noSkip && (outs[2] !== cin || stride !== 1)) trainable += cin * outs[2]!;
  }
  return { trainable: trainable + 2048 * classes + classes, bnChannels };
}

describe('pre-activation aligned presets (timm xception41p, xception65p)', () => {
  it.each([
    ['xception41p', 26_907_752, 26.91],
    ['xception65p', 39_819_560, 39.82],
  ] as const)("%s: %i trainable parameters, timm's count from its block_cfg (%sM)", (preset, exact, millions) => {
    const model = createXception({ preset });
    const counts = countParameters(model);
    const { trainable, bnChannels } = timmPreactTrainable(TIMM_PREACT[preset], 1000);
    expect(counts.trainable).toBe(trainable);
    expect(counts.trainable).toBe(exact);
    expect(Math.round(counts.trainable / 1e4) / 100).toBe(millions);
    expect(counts.nonTrainable).toBe(2 * bnChannels);
    model.dispose();
  });

  it("builds timm's PreXceptionModule: norm before each unit and convs 2 and 3, bare shortcut, final ReLU", () => {
    const model = createXception({ preset: 'xception41p', includeTop: false });
    const names = model.layers.map((l) => l.name);
    expect(names.slice(0, 6)).toEqual(['input', 'block1_conv1_pad', 'block1_conv1', 'block1_conv1_bn', 'block1_conv1_act', 'block1_conv2']);
    expect(names).toEqual(expect.arrayContaining([
      'block2_preact_bn', 'block2_preact_act', 'block2_residual_conv', 'block2_sepconv2_bn', 'block2_sepconv2_act',
      'block2_sepconv3_bn', 'block2_sepconv3_depthwise_pad', 'block2_add', 'final_act',
    ]));
    for (const absent of ['block1_conv2_bn', 'block2_residual_bn', 'block2_sepconv1_bn', 'block2_sepconv1_depthwise_bn', 'block5_residual_conv', 'block14_add']) {
      expect(names).not.toContain(absent);
    }
    expect(model.getLayer('block2_preact_bn').getConfig()).toMatchObject({ epsilon: 1e-5 });
    expect(model.outputs[0]!.sourceLayer.name).toBe('final_act');
    // The shortcut takes the normalized input, as PreXceptionModule's `skip = self.norm(x)`.
    expect((model.getLayer('block2_residual_conv').input as { sourceLayer: { name: string } }).sourceLayer.name).toBe('block2_preact_act');
    model.dispose();
    const p65 = createXception({ preset: 'xception65p', includeTop: false });
    expect(p65.getLayer('block2_preact_bn').getConfig()).toMatchObject({ epsilon: 1e-3 });
    p65.dispose();
  });

  it.each([32, 16, 8] as const)('xception65p at output stride %i: 299 → ceil(150 / (os / 2)), same parameters', (outputStride) => {
    const model = createXception({ preset: 'xception65p', includeTop: false, outputStride });
    const s = Math.ceil(150 / (outputStride / 2));
    expect(model.outputs[0]!.shape).toEqual([null, s, s, 2048]);
    expect(model.countParams()).toBe(39_908_008 - 2048 * 1000 - 1000);
    model.dispose();
  });
});
