/*
 * timm's state-dict names and PyTorch shapes for the aligned Xceptions,
 * written from timm's block_cfg (timm/models/xception_aligned.py) and the
 * shared facts, independently of src/weights/load-timm-weights.ts.
 */

/** [in, out (one or three), stride, noSkip]. */
export type TimmCfg = [number, number | [number, number, number], number, boolean?];

const EXIT: TimmCfg[] = [[728, [728, 1024, 1024], 2], [1024, [1536, 1536, 2048], 1, true]];
const MIDDLE = (n: number): TimmCfg[] => Array.from({ length: n }, () => [728, 728, 1] as TimmCfg);
const ENTRY: TimmCfg[] = [[64, 128, 2], [128, 256, 2], [256, 728, 2]];

export const TIMM_BLOCK_CFG = {
  xception41: { cfg: [...ENTRY, ...MIDDLE(8), ...EXIT], preact: false },
  xception65: { cfg: [...ENTRY, ...MIDDLE(16), ...EXIT], preact: false },
  xception71: { cfg: [[64, 128, 2], [128, 256, 1], [256, 256, 2], [256, 728, 1], [728, 728, 2], ...MIDDLE(16), ...EXIT] as TimmCfg[], preact: false },
  xception41p: { cfg: [...ENTRY, ...MIDDLE(8), ...EXIT], preact: true },
  xception65p: { cfg: [...ENTRY, ...MIDDLE(16), ...EXIT], preact: true },
} as const;

export interface TimmTensorSpec {
  name: string;
  shape: number[];
  /** num_batches_tracked: an int64 scalar. */
  counter: boolean;
}

/** Every tensor of timm's state dict, in timm's order. */
export function timmStateDictSpec(preset: keyof typeof TIMM_BLOCK_CFG, classes = 1000): TimmTensorSpec[] {
  const { cfg, preact } = TIMM_BLOCK_CFG[preset];
  const out: TimmTensorSpec[] = [];
  const t = (name: string, shape: number[]) => out.push({ name, shape, counter: false });
  const bn = (prefix: string, c: number) => {
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) t(`${prefix}.${p}`, [c]);
    out.push({ name: `${prefix}.num_batches_tracked`, shape: [], counter: true });
  };
  t('stem.0.conv.weight', [32, 3, 3, 3]);
  bn('stem.0.bn', 32);
  if (preact) {
    t('stem.1.weight', [64, 32, 3, 3]);
  } else {
    t('stem.1.conv.weight', [64, 32, 3, 3]);
    bn('stem.1.bn', 64);
  }
  cfg.forEach(([cin, out3, stride, noSkip], i) => {
    const outs = typeof out3 === 'number' ? [out3, out3, out3] : out3;
    const b = `blocks.${i}`;
    const shortcut = !noSkip && (outs[2] !== cin || stride !== 1);
    if (preact) {
      if (shortcut) t(`${b}.shortcut.weight`, [outs[2]!, cin, 1, 1]);
      bn(`${b}.norm`, cin);
    } else if (shortcut) {
      t(`${b}.shortcut.conv.weight`, [outs[2]!, cin, 1, 1]);
      bn(`${b}.shortcut.bn`, outs[2]!);
    }
    let c = cin;
    outs.forEach((o, k) => {
      const s = `${b}.stack.conv${k + 1}`;
      if (preact) {
        if (k > 0) bn(`${s}.norm`, c);
        t(`${s}.conv_dw.weight`, [c, 1, 3, 3]);
        t(`${s}.conv_pw.weight`, [o, c, 1, 1]);
      } else {
        t(`${s}.conv_dw.weight`, [c, 1, 3, 3]);
        bn(`${s}.bn_dw`, c);
        t(`${s}.conv_pw.weight`, [o, c, 1, 1]);
        bn(`${s}.bn_pw`, o);
      }
      c = o;
    });
  });
  t('head.fc.weight', [classes, 2048]);
  t('head.fc.bias', [classes]);
  return out;
}
