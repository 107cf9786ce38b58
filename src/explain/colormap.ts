/**
 * The colour maps {@link overlayHeatmap} paints with: `'jet'` (blue → cyan →
 * yellow → red, matplotlib's jet as keras.io's Grad-CAM uses) or `'gray'`.
 *
 * @example
 * ```ts
 * const colormap: HeatmapColormap = 'jet';
 * const overlay = overlayHeatmap(image, heatmap, { colormap });
 * ```
 * @category Explain
 */
export type HeatmapColormap = 'jet' | 'gray';

/** The colour maps by name. @internal */
export const HEATMAP_COLORMAPS: readonly HeatmapColormap[] = ['jet', 'gray'];

/**
 * The RGB colour (each in [0, 255]) of `value` in [0, 1]. Jet is piecewise
 * linear: blue at 0, cyan at 3/8, yellow at 5/8, red at 1 (dark blue and
 * dark red at the very ends). @internal
 */
export function colorOf(colormap: HeatmapColormap, value: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, value));
  if (colormap === 'gray') return [255 * v, 255 * v, 255 * v];
  const channel = (centre: number) => 255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - centre)));
  return [channel(3), channel(2), channel(1)];
}
