import { describe, expect, it } from 'vitest';
import { plotHistory } from '../../src/index.js';

/** The polylines of an SVG as [x, y] points. */
function polylines(svg: string): [number, number][][] {
  return [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) => m[1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]));
}

describe('plotHistory', () => {
  it('draws loss and accuracy, training and validation, one point per epoch, on their scales', () => {
    const svg = plotHistory({ loss: [2, 1, 0.5], val_loss: [2.2, 1.1, 1], accuracy: [0, 0.5, 1], val_accuracy: [0.25, 0.5, 0.75] }, { title: 'a <b> & c' });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="840" height="340"/);
    expect(svg).toContain('<text x="40" y="16">a &lt;b&gt; &amp; c</text>');
    const [loss, valLoss, accuracy, valAccuracy] = polylines(svg);
    // Loss panel: x from 40 to 400, y from 260 (0) up to 40 (1.1 × the largest loss, 2.2: 2.42).
    expect(loss).toEqual([[40, +(260 - (2 / 2.42) * 220).toFixed(1)], [220, +(260 - (1 / 2.42) * 220).toFixed(1)], [400, +(260 - (0.5 / 2.42) * 220).toFixed(1)]]);
    expect(valLoss![0]).toEqual([40, 60]); // 2.2, the largest loss, at 1 / 1.1 of the height
    // Accuracy panel: x from 440 to 800, y 260 (0) to 40 (1).
    expect(accuracy).toEqual([[440, 260], [620, 150], [800, 40]]);
    expect(valAccuracy).toEqual([[440, 205], [620, 150], [800, 95]]);
    expect(svg.match(/<circle /g)).toHaveLength(12);
  });

  it("reads TensorFlow.js' and the ONNX trainer's keys (acc, val_acc) as well", () => {
    const [, , accuracy] = polylines(plotHistory({ loss: [1], acc: [0.5], val_loss: [1], val_acc: [1] }));
    expect(accuracy).toEqual([[620, 150]]);
    expect(plotHistory({ loss: [1], acc: [0.5], val_loss: [1], val_acc: [1] })).toContain('<title>val_acc 1.0000</title>');
  });
});
