/**
 * Options of {@link plotHistory}.
 *
 * @example
 * ```ts
 * const options: PlotHistoryOptions = { title: 'mini on Fashion-MNIST' };
 * ```
 * @category Training
 */
export interface PlotHistoryOptions {
  /** A line of text above the chart. @defaultValue none */
  title?: string;
}

/**
 * Draws a training history as an SVG chart to open in a browser: a loss
 * panel and an accuracy panel, training and validation, one point per epoch.
 * Reads Keras' keys (`loss`, `accuracy`, `val_loss`, `val_accuracy`) or
 * TensorFlow.js' and the ONNX trainer's (`acc`, `val_acc`).
 *
 * @param history - One array of values per key, one value per epoch.
 * @param options - See {@link PlotHistoryOptions}.
 * @returns The SVG document.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { plotHistory } from 'xception-ts';
 *
 * const history = { loss: [1.2, 0.8, 0.5], val_loss: [1.3, 0.9, 0.7], accuracy: [0.5, 0.7, 0.85], val_accuracy: [0.45, 0.66, 0.8] };
 * writeFileSync('history.svg', plotHistory(history, { title: 'three epochs' }));
 * ```
 * @category Training
 */
export function plotHistory(history: Readonly<Record<string, readonly number[]>>, options: PlotHistoryOptions = {}): string {
  const panels: [string, string[]][] = [
    ['loss', ['loss', 'val_loss']],
    ['accuracy', [history['accuracy'] ? 'accuracy' : 'acc', history['val_accuracy'] ? 'val_accuracy' : 'val_acc']],
  ];
  const [panelW, panelH, pad] = [360, 220, 40];
  const colour = (key: string) => (key.startsWith('val_') ? '#48c' : '#e73');
  const parts: string[] = [];
  panels.forEach(([name, keys], p) => {
    const x0 = pad + p * (panelW + pad);
    const series = keys.filter((k) => history[k]?.length);
    const values = series.flatMap((k) => history[k]!.filter(Number.isFinite));
    const epochs = Math.max(1, ...series.map((k) => history[k]!.length));
    const [lo, hi] = name === 'accuracy' ? [0, 1] : [0, Math.max(...values, 1e-6) * 1.1];
    const px = (i: number) => x0 + (epochs === 1 ? panelW / 2 : (i / (epochs - 1)) * panelW);
    const py = (v: number) => pad + panelH - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * panelH;
    parts.push(`<rect x="${x0}" y="${pad}" width="${panelW}" height="${panelH}" fill="none" stroke="#ccc"/>`);
    parts.push(`<text x="${x0}" y="${pad - 8}" font-weight="bold">${name}</text>`);
    parts.push(`<text x="${x0 - 4}" y="${pad + 4}" text-anchor="end">${hi.toFixed(2)}</text><text x="${x0 - 4}" y="${pad + panelH}" text-anchor="end">${lo}</text>`);
    parts.push(`<text x="${x0 + panelW / 2}" y="${pad + panelH + 28}" text-anchor="middle">epoch (1–${epochs})</text>`);
    series.forEach((k, s) => {
      const points = history[k]!.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${points}" fill="none" stroke="${colour(k)}" stroke-width="2"/>`);
      parts.push(...history[k]!.map((v, i) => `<circle cx="${px(i).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3" fill="${colour(k)}"><title>${k} ${v.toFixed(4)}</title></circle>`));
      parts.push(`<text x="${x0 + panelW - 90}" y="${pad + 16 + s * 16}" fill="${colour(k)}">${k.startsWith('val_') ? 'validation' : 'training'}</text>`);
    });
  });
  const width = pad + panels.length * (panelW + pad);
  const title = options.title === undefined ? '' : `<text x="${pad}" y="16">${escapeXml(options.title)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${panelH + 2 * pad + 40}" font-family="sans-serif" font-size="12">${title}${parts.join('')}</svg>\n`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
