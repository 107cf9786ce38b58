import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  createXception,
  entryFlow,
  exitFlow,
  middleFlow,
  separableBlock,
  XceptionConfigError,
  XceptionError,
  type XceptionOptions,
} from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

// Every case is rejected before any layer exists; the backend serves the one eager tensor below.
beforeAll(() => useBackend('cpu'));
const cases: [string, unknown, RegExp][] = [
  ['numClasses 0', { numClasses: 0 }, /^numClasses must be an integer >= 1; got 0\.$/],
  ['numClasses 2.5', { numClasses: 2.5 }, /numClasses must be an integer >= 1; got 2\.5/],
  ['numClasses "10"', { numClasses: '10' }, /numClasses must be an integer >= 1; got "10"/],
  ['inputShape rank 2', { inputShape: [299, 299] }, /inputShape \[299,299\] must be \[height, width, channels\] \(rank 3.*it is rank 2/],
  ['inputShape rank 4', { inputShape: [1, 299, 299, 3] }, /it is rank 4/],
  ['channels 0', { inputShape: [299, 299, 0] }, /inputShape \[299,299,0\]: channels must be an integer >= 1; got 0/],
  ['channels null', { inputShape: [299, 299, null] }, /channels must be an integer >= 1; got null/],
  ['height 31', { inputShape: [31, 299, 3] }, /height 31 is below 32, the smallest input the Xception graph supports/],
  ['width 70', { inputShape: [299, 70, 3] }, /width 70 is below 71, the smallest size Keras Applications accepts; pass allowSmallInput: true/],
  ['height 20 even with allowSmallInput', { inputShape: [20, 20, 3], allowSmallInput: true }, /height 20 is below 32/],
  ['height 64.5', { inputShape: [64.5, 299, 3] }, /height must be an integer or null; got 64\.5/],
  ['top with null height', { inputShape: [null, 299, 3] }, /height is undefined, but a model with includeTop: true needs a fixed input size/],
  ['unknown preset', { preset: 'xception42' }, /Unknown preset "xception42": valid presets are 'keras', 'postact', 'xception41', 'xception65', 'xception71', 'xception41p', 'xception65p', 'mini', 'tiny', 'big'\./],
  ['pooling "sum"', { includeTop: false, pooling: 'sum' }, /pooling must be one of 'avg', 'max'; got "sum"/],
  ['pooling with the top', { pooling: 'avg' }, /pooling 'avg' applies only with includeTop: false/],
  ['classifierActivation', { classifierActivation: 'relu' }, /classifierActivation must be one of 'softmax', 'linear'; got "relu"/],
  ['dropout 1', { dropout: 1 }, /dropout must be a number in \[0, 1\); got 1/],
  ['dropout without top', { includeTop: false, dropout: 0.5 }, /dropout 0\.5 applies to the classifier and needs includeTop: true/],
  ['middleFlowRepeats -1', { middleFlowRepeats: -1 }, /middleFlowRepeats must be an integer >= 0; got -1/],
  ['includeTop "yes"', { includeTop: 'yes' }, /includeTop must be true or false; got "yes"/],
  ['misspelt option', { numClass: 10 }, /Unknown createXception option 'numClass'; valid options are 'preset', .*'numClasses'/],
  ['name with spaces', { name: 'my model' }, /name must be a non-empty string without whitespace; got "my model"/],
  ['options not an object', 42, /createXception options must be an object; got 42/],
];

describe('createXception refuses bad options with XceptionConfigError', () => {
  it.each(cases)('%s', (_label, options, message) => {
    let caught: unknown;
    try {
      createXception(options as XceptionOptions);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(XceptionConfigError);
    expect(caught).toBeInstanceOf(XceptionError);
    expect((caught as Error).name).toBe('XceptionConfigError');
    expect((caught as Error).message).toMatch(message);
  });
});

describe('the building blocks refuse bad input', () => {
  const x = tf.input({ shape: [32, 32, 16] });
  it.each([
    ['no name', () => separableBlock(x, { filters: 8 } as never), /separableBlock name must be a non-empty string/],
    ['filters 0', () => separableBlock(x, { filters: 0, name: 'b' }), /^b: filters must be an integer >= 1; got 0\.$/],
    ['kernel size pair of 3', () => separableBlock(x, { filters: 8, kernelSize: [3, 3, 3] as never, name: 'b' }), /b: kernelSize must be an integer >= 1 or a pair of them; got \[3,3,3\]/],
    ['activation', () => separableBlock(x, { filters: 8, activation: 'gelu' as never, name: 'b' }), /b: activation must be one of 'pre', 'post', 'none'; got "gelu"/],
    ['strides with dilation', () => separableBlock(x, { filters: 8, strides: 2, dilationRate: 2, name: 'b' }), /b: strides 2 and dilationRate 2 cannot be combined/],
    ['an eager tensor', () => separableBlock(tf.zeros([1, 4, 4, 2]) as never, { filters: 8, name: 'b' }), /separableBlock input must be a tfjs SymbolicTensor/],
    ['a rank-3 input', () => entryFlow(tf.input({ shape: [32, 32] })), /entryFlow input must have shape \[batch, height, width, channels\]/],
    ['entry input below the stem', () => entryFlow(tf.input({ shape: [6, 64, 3] })), /entryFlow: input height 6 is too small for a 'valid' stem .* it needs at least 7/],
    ['entry stemPadding', () => entryFlow(x, { stemPadding: 'full' as never }), /entryFlow: stemPadding must be one of 'valid', 'same'; got "full"/],
    ['entry filters', () => entryFlow(x, { filters: [] }), /entryFlow: filters must be a non-empty list of positive integers; got \[\]/],
    ['middle channel mismatch', () => middleFlow(x), /middleFlow: the input has 16 channels but filters is 728/],
    ['middle preset', () => middleFlow(x, { preset: 'huge' as never }), /Unknown preset "huge"/],
    ['middle mini preset', () => middleFlow(x, { preset: 'big' }), /middleFlow builds the classic Xception flows; preset 'big' is a mini-Xception/],
    ['exit convFilters', () => exitFlow(x, { convFilters: [1536] as never }), /exitFlow: convFilters must be a list of 2 positive integers; got \[1536\]/],
    ['namePrefix with space', () => exitFlow(x, { namePrefix: 'a b' }), /exitFlow: namePrefix must be a string without whitespace; got "a b"/],
  ])('%s', (_label, build, message) => {
    expect(build).toThrow(XceptionConfigError);
    expect(build).toThrow(message);
  });
});
