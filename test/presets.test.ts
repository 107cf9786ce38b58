import { describe, expect, it } from 'vitest';
import { getPreset, listPresets, XCEPTION_PRESETS, XceptionConfigError } from '../src/index.js';

describe('presets', () => {
  it('lists the built-in presets in table order', () => {
    expect(listPresets()).toEqual(['keras', 'postact']);
  });

  it('describes Keras Applications and the course variant as data', () => {
    expect(getPreset()).toBe(XCEPTION_PRESETS.keras);
    expect(XCEPTION_PRESETS.keras).toMatchObject({ stemPadding: 'valid', blockActivation: 'pre', middleRepeats: 8 });
    expect(XCEPTION_PRESETS.postact).toMatchObject({ stemPadding: 'same', blockActivation: 'post', middleRepeats: 8 });
  });

  it('is frozen, lists included', () => {
    expect(Object.isFrozen(XCEPTION_PRESETS)).toBe(true);
    expect(Object.isFrozen(XCEPTION_PRESETS.keras)).toBe(true);
    expect(Object.isFrozen(XCEPTION_PRESETS.keras.entryFilters)).toBe(true);
  });

  it('refuses an unknown name and lists the valid ones', () => {
    expect(() => getPreset('xception41')).toThrow(XceptionConfigError);
    expect(() => getPreset('xception41')).toThrow(`Unknown preset "xception41": valid presets are 'keras', 'postact'.`);
    expect(() => getPreset('toString')).toThrow(XceptionConfigError);
  });
});
