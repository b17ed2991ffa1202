import * as tf from '@tensorflow/tfjs';
import { lowerKerasModel } from '../../../src/model/layer-graph';
import { parametersOf, trainableOps } from '../../../src/model/trainable';
import { createSgd } from '../../../src/training/sgd';
import { holdoutSplit } from '../../../src/training/split';
import { maxRelativeError } from '../../helpers/numeric';
import { tinyNetwork } from '../../helpers/tiny-network';

describe('SGD on folded weights', () => {
  beforeAll(() => tf.setBackend('cpu'));

  it('is SGD on the Keras weights with batch-norm frozen, expressed on the folded ones (momentum and decay included)', async () => {
    const { files } = await tinyNetwork();
    const graph = lowerKerasModel(files, 'logits');
    const [c1] = trainableOps(graph, 'all');
    const [kernel, bias] = parametersOf([c1]);
    expect(kernel.channelStep).not.toBeNull();
    const settings = { learningRate: 0.05, momentum: 0.9, weightDecay: 0.01 };
    const sgd = createSgd([kernel, bias], settings);
    // Two steps with arbitrary gradients of the folded weights.
    const folded = [0, 1].map((step) => [kernel, bias].map((p) => Float32Array.from(p.data, (_, i) => Math.sin(i * 1.7 + step))));

    // The same two steps on the unfolded Keras weights K, b (BN: y = s·(K*x + b) + t).
    const s = c1.kind === 'conv' && c1.batchNorm ? c1.batchNorm.scale : new Float32Array();
    const out = s.length;
    const K = files.weights['c1/kernel'].data.slice();
    const b = files.weights['c1/bias'].data.slice();
    const [vK, vb] = [new Float32Array(K.length), new Float32Array(b.length)];
    for (const [gK, gb] of folded) {
      sgd.step([gK, gb], 1);
      // ∂L/∂K = s·∂L/∂K' per output channel; PyTorch's SGD: v := μv + g + λθ (kernels only here).
      K.forEach((k, i) => {
        vK[i] = settings.momentum * vK[i] + s[i % out] * gK[i] + settings.weightDecay * k;
        K[i] = k - settings.learningRate * vK[i];
      });
      b.forEach((v, i) => {
        vb[i] = settings.momentum * vb[i] + s[i] * gb[i];
        b[i] = v - settings.learningRate * vb[i];
      });
    }
    const shift = bias.data.map((_, o) => c1.bias[o] - s[o] * files.weights['c1/bias'].data[o]); // t, as folded
    expect(maxRelativeError(kernel.data, K.map((k, i) => k * s[i % out]))).toBeLessThan(1e-5);
    expect(maxRelativeError(bias.data, b.map((v, o) => v * s[o] + shift[o]))).toBeLessThan(1e-5);
  });
});

describe('hold-out split', () => {
  it('is seeded, of the asked size, stratified where labels repeat', () => {
    const labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const a = holdoutSplit(labels, 0.2, 7);
    expect(holdoutSplit(labels, 0.2, 7)).toEqual(a);
    expect(a.holdout).toHaveLength(4);
    expect(a.train).toHaveLength(16);
    expect([...a.train, ...a.holdout].sort((x, y) => x - y)).toEqual(labels.map((_, i) => i));
    // One of each repeated label's five, the rest from the singletons.
    expect(a.holdout.filter((i) => labels[i] === 0)).toHaveLength(1);
    expect(a.holdout.filter((i) => labels[i] === 1)).toHaveLength(1);
    expect(holdoutSplit(labels, 0.2, 8).holdout).not.toEqual(a.holdout);
    expect(holdoutSplit(labels, 0, 1).holdout).toEqual([]);
  });
});
