import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../helpers/backend.js';
import { run } from '../helpers/run-cli.js';

beforeAll(() => useBackend('cpu'));

describe('xception-ts summary', () => {
  it('prints the Keras layer table and counts by default', async () => {
    const { code, out, err } = await run('summary');
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toMatch(/^8 +block2_sepconv1 +SeparableConv2D +\[N,147,147,128\] +8,768 +depthwise_kernel\[3,3,64,1\] pointwise_kernel\[1,1,64,128\]$/m);
    expect(out).toMatch(/^134 +predictions +Dense +\[N,1000\] +2,049,000 +kernel\[2048,1000\] bias\[1000\]$/m);
    expect(out).toContain('Layers: 134');
    expect(out).toContain('Total params: 22,910,480');
    expect(out).toContain('Trainable params: 22,855,952');
    expect(out).toContain('Non-trainable params: 54,528');
  });

  it('builds the aligned presets and dilated models', async () => {
    const aligned = await run('summary', '--preset', 'xception65', '--output-stride', '16', '--no-top', '--input', '128,128,3');
    expect(aligned.code).toBe(0);
    expect(aligned.out).toMatch(/block22_sepconv3_depthwise +XceptionAtrousDepthwiseConv2D +\[N,8,8,1536\]/);
    expect((await run('summary', '--output-stride', '4')).err).toContain('--output-stride must be one of 8, 16, 32; got "4".');
  });

  it('takes --preset, --classes, --input and --no-top', async () => {
    expect((await run('summary', '--preset', 'postact', '--classes', '100')).out).toContain('Total params: 21,066,380');
    const noTop = await run('summary', '--no-top', '--input', '150,150,3');
    expect(noTop.out).toContain('Total params: 20,861,480');
    expect(noTop.out).toMatch(/block14_sepconv2_act +Activation +\[N,5,5,2048\]/);
  });

  it('reports bad flag values in flag terms with exit code 2 and a one-line hint', async () => {
    const badPreset = await run('summary', '--preset', 'huge');
    expect(badPreset.code).toBe(2);
    expect(badPreset.err).toBe(
      `xception-ts: --preset must be one of keras, postact, xception41, xception65, xception71, xception41p, xception65p, mini, tiny, big; got "huge".\nTry 'xception-ts help summary'.`,
    );
    const badClasses = await run('summary', '--classes', 'ten');
    expect(badClasses.code).toBe(2);
    expect(badClasses.err).toContain('--classes must be an integer >= 1; got "ten".');
    expect((await run('summary', '--classes', '0')).err).toContain('--classes must be an integer >= 1; got "0".');
    expect((await run('summary', '--input', '20,20,3')).err).toContain('--input 20,20,3: height 20 is below 32');
    expect((await run('summary', '--input', '64,64,3')).err).toContain('pass --allow-small-input to build it anyway');
    const unknownFlag = await run('summary', '--colour');
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.err).toContain("Unknown option '--colour'");
    const noCommand = await run();
    expect(noCommand.code).toBe(2);
    expect(noCommand.err).toBe("xception-ts: expected a command: summary, convert, export-onnx, inspect, export-keras, classify, train, help; got none.\nTry 'xception-ts --help'.");
    expect((await run('--help')).out).toContain('Usage: xception-ts <command> [options]');
  });
});
