import { describe, expect, it } from 'vitest';
import { getPreset, listPresets, XCEPTION_PRESETS, XceptionConfigError } from '../../src/index.js';

describe('presets', () => {
  it('lists the built-in presets in table order', () => {
    expect(listPresets()).toEqual(['keras', 'postact', 'xception41', 'xception65', 'xception71', 'xception41p', 'xception65p', 'mini', 'tiny', 'big']);
  });

  it('describes Keras Applications and the course variant as data', () => {
    expect(getPreset()).toBe(XCEPTION_PRESETS.keras);
    expect(XCEPTION_PRESETS.keras).toMatchObject({ family: 'classic', stemPadding: 'valid', blockActivation: 'pre', middleRepeats: 8 });
    expect(XCEPTION_PRESETS.postact).toMatchObject({ family: 'classic', stemPadding: 'same', blockActivation: 'post', middleRepeats: 8 });
  });

  it('describes the aligned Xceptions as timm does: units, strides, skips', () => {
    const strides = (name: 'xception41' | 'xception65' | 'xception71') => XCEPTION_PRESETS[name].units.map((u) => u.stride).join('');
    expect(strides('xception41')).toBe('222' + '1'.repeat(8) + '21');
    expect(strides('xception65')).toBe('222' + '1'.repeat(16) + '21');
    expect(strides('xception71')).toBe('21212' + '1'.repeat(16) + '21');
    for (const name of ['xception41', 'xception65', 'xception71'] as const) {
      const units = XCEPTION_PRESETS[name].units;
      expect(units.at(-1)).toEqual({ filters: [1536, 1536, 2048], stride: 1, skip: false, startWithRelu: false });
      expect(units.at(-2)).toEqual({ filters: [728, 1024, 1024], stride: 2, skip: true, startWithRelu: true });
      expect(units.slice(0, -1).every((u) => u.skip && u.startWithRelu)).toBe(true);
    }
  });

  it("describes timm's pre-activation 41p/65p: 41's and 65's strides, no last shortcut, their BN epsilons", () => {
    const strides = (name: 'xception41p' | 'xception65p') => XCEPTION_PRESETS[name].units.map((u) => u.stride).join('');
    expect(strides('xception41p')).toBe('222' + '1'.repeat(8) + '21');
    expect(strides('xception65p')).toBe('222' + '1'.repeat(16) + '21');
    expect(XCEPTION_PRESETS.xception41p).toMatchObject({ family: 'aligned', preactivation: true, batchNormEpsilon: 1e-5 });
    expect(XCEPTION_PRESETS.xception65p).toMatchObject({ family: 'aligned', preactivation: true, batchNormEpsilon: 1e-3 });
    for (const name of ['xception41', 'xception65', 'xception71'] as const) {
      expect(XCEPTION_PRESETS[name]).toMatchObject({ preactivation: false, batchNormEpsilon: 1e-3 });
    }
    expect(XCEPTION_PRESETS.xception65p.units.at(-1)).toMatchObject({ filters: [1536, 1536, 2048], stride: 1, skip: false });
  });

  it("describes oarriaga's mini-Xception family from cnn.py", () => {
    expect(XCEPTION_PRESETS.mini).toMatchObject({ family: 'mini', stemFilters: [8, 8], stemStrides: [1, 1], moduleFilters: [16, 32, 64, 128], moduleLeadingRelu: false });
    expect(XCEPTION_PRESETS.tiny).toMatchObject({ family: 'mini', stemFilters: [5, 5], stemStrides: [1, 1], moduleFilters: [8, 16, 32, 64], moduleLeadingRelu: false });
    expect(XCEPTION_PRESETS.big).toMatchObject({ family: 'mini', stemFilters: [32, 64], stemStrides: [2, 1], moduleFilters: [128, 256], moduleLeadingRelu: true });
    expect(Object.isFrozen(XCEPTION_PRESETS.mini.moduleFilters)).toBe(true);
  });

  it('is frozen, lists included', () => {
    expect(Object.isFrozen(XCEPTION_PRESETS)).toBe(true);
    expect(Object.isFrozen(XCEPTION_PRESETS.keras)).toBe(true);
    expect(Object.isFrozen(XCEPTION_PRESETS.keras.entryFilters)).toBe(true);
    expect(Object.isFrozen(XCEPTION_PRESETS.xception71.units)).toBe(true);
    expect(Object.isFrozen(XCEPTION_PRESETS.xception71.units[0])).toBe(true);
  });

  it('refuses an unknown name and lists the valid ones', () => {
    expect(() => getPreset('xception42')).toThrow(XceptionConfigError);
    expect(() => getPreset('xception42')).toThrow(
      `Unknown preset "xception42": valid presets are 'keras', 'postact', 'xception41', 'xception65', 'xception71', 'xception41p', 'xception65p', 'mini', 'tiny', 'big'.`,
    );
    expect(() => getPreset('toString')).toThrow(XceptionConfigError);
  });
});
