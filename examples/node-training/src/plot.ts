// The history as an SVG chart people can open in a browser: loss and accuracy per epoch,
// training and validation.

/** Two panels (loss, accuracy), one line per series, epochs on the x axis. */
export function historyChart(history: Record<string, number[]>, title: string): string {
  const panels: [string, string[]][] = [
    ['loss', ['loss', 'val_loss']],
    ['accuracy', ['acc', 'val_acc']],
  ];
  const [panelW, panelH, pad] = [360, 220, 40];
  const colours: Record<string, string> = { loss: '#e73', val_loss: '#48c', acc: '#e73', val_acc: '#48c' };
  const parts: string[] = [];
  panels.forEach(([name, keys], p) => {
    const x0 = pad + p * (panelW + pad);
    const series = keys.filter((k) => history[k]?.length);
    const values = series.flatMap((k) => history[k]!);
    const epochs = Math.max(1, ...series.map((k) => history[k]!.length));
    const [lo, hi] = name === 'accuracy' ? [0, 1] : [0, Math.max(...values, 1e-6) * 1.1];
    const px = (i: number) => x0 + (epochs === 1 ? panelW / 2 : (i / (epochs - 1)) * panelW);
    const py = (v: number) => pad + panelH - ((v - lo) / (hi - lo)) * panelH;
    parts.push(`<rect x="${x0}" y="${pad}" width="${panelW}" height="${panelH}" fill="none" stroke="#ccc"/>`);
    parts.push(`<text x="${x0}" y="${pad - 8}" font-weight="bold">${name}</text>`);
    parts.push(`<text x="${x0 - 4}" y="${pad + 4}" text-anchor="end">${hi.toFixed(2)}</text><text x="${x0 - 4}" y="${pad + panelH}" text-anchor="end">${lo}</text>`);
    parts.push(`<text x="${x0 + panelW / 2}" y="${pad + panelH + 28}" text-anchor="middle">epoch (1–${epochs})</text>`);
    series.forEach((k, s) => {
      const points = history[k]!.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${points}" fill="none" stroke="${colours[k]}" stroke-width="2"/>`);
      parts.push(...history[k]!.map((v, i) => `<circle cx="${px(i).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3" fill="${colours[k]}"><title>${k} ${v.toFixed(4)}</title></circle>`));
      parts.push(`<text x="${x0 + panelW - 90}" y="${pad + 16 + s * 16}" fill="${colours[k]}">${k.startsWith('val_') ? 'validation' : 'training'}</text>`);
    });
  });
  const width = pad + panels.length * (panelW + pad);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${panelH + 2 * pad + 40}" font-family="sans-serif" font-size="12">` +
    `<text x="${pad}" y="16">${escape(title)}</text>${parts.join('')}</svg>\n`;
}

function escape(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
