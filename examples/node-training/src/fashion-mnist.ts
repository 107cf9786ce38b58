// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) through xception-ts' loadIdxDataset: 60,000 training
// and 10,000 test images, 28×28 grayscale, 10 classes. Debian's dataset-fashion-mnist package
// installs them in /usr/share/datasets/fashion-mnist/ as {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadIdxDataset, type ImageDataset } from 'xception-ts';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/**
 * The first `samples` training and `testSamples` test images as batches: each image centred on a
 * `size × size` canvas (28 → 32: two pixels of padding), `channels` 1 or 3. Training batches are
 * shuffled each epoch, shifted by up to 2 pixels and flipped horizontally at random (a flipped
 * shirt is a shirt).
 */
export async function fashionMnist(
  dir: string,
  options: { size: number; channels: 1 | 3; batchSize: number; samples: number; testSamples: number },
): Promise<{ train: ImageDataset; test: ImageDataset }> {
  for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    if (!existsSync(join(dir, `${name}.gz`)) && !existsSync(join(dir, name))) {
      throw new Error(`--data fashion-mnist: ${join(dir, name)}(.gz) is missing (Debian: apt-get install dataset-fashion-mnist).`);
    }
  }
  if (options.size < 28) throw new Error(`--input-size ${options.size} is smaller than the images (28×28).`);
  const common = { imageSize: options.size, channels: options.channels, classNames: FASHION_MNIST_CLASSES };
  const { train } = await loadIdxDataset(dir, { ...common, batchSize: options.batchSize, augment: { flip: true, crop: 4 / options.size }, maxImages: options.samples });
  const { test } = await loadIdxDataset(dir, { ...common, batchSize: Math.max(options.batchSize, 64), maxImages: options.testSamples });
  return { train, test: test! };
}
