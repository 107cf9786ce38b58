// Issue 21: the SHA-256 now known for xception41p.ra3_in1k's model.safetensors
// (108 MB, listed on the file's Hugging Face hub page) is in PRETRAINED_CONFIGS,
// and a download of that preset is checked against it (before: size and header only).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createXception, PRETRAINED_CONFIGS, XceptionWeightsError } from '../../src/index.js';
import { sha256Hex, sha256HexWebCrypto } from '../../src/weights/download-timm-checkpoint.js';
import { useBackend } from '../helpers/backend.js';
import { serveOnLoopback, type LoopbackServer } from '../helpers/loopback-server.js';

const PUBLISHED = '84cc7268d4d0973769ac78db2c1d07e5bbfbcab2447d6f1df3f7b755ba7b2dea';
let server: LoopbackServer;
const requested: string[] = [];
/** Not the checkpoint: 4 KiB of a pattern. */
const impostor = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) % 256);

beforeAll(async () => {
  await useBackend('cpu');
  server = await serveOnLoopback((request, response) => {
    requested.push(request.url ?? '');
    response.writeHead(200, { 'content-length': impostor.length }).end(impostor);
  });
});
afterAll(() => server.close());

describe('xception41p: the published SHA-256 is checked on download', () => {
  it('is in PRETRAINED_CONFIGS', () => {
    expect(PRETRAINED_CONFIGS.xception41p!.sha256).toBe(PUBLISHED);
  });

  it('a file with another hash is refused, naming both hashes', async () => {
    const actual = createHash('sha256').update(impostor).digest('hex');
    const error = await createXception({ preset: 'xception41p', weights: 'imagenet', weightsBaseUrl: `${server.base}/timm/`, weightsCacheDir: false })
      .then(() => null, (e: unknown) => e);
    expect(requested).toEqual(['/timm/xception41p.ra3_in1k/resolve/main/model.safetensors']);
    expect(error).toBeInstanceOf(XceptionWeightsError);
    expect((error as Error).message).toContain(`(4096 bytes) has SHA-256 ${actual}, not the published ${PUBLISHED}: refusing a corrupt or different file.`);
  });

  it("Node's crypto and Web Crypto give the same SHA-256", async () => {
    for (const bytes of [new Uint8Array(0), impostor, new Uint8Array(1 << 20).fill(255)]) {
      const expected = createHash('sha256').update(bytes).digest('hex');
      const buffer = bytes.slice().buffer;
      expect(await sha256Hex(buffer)).toBe(expected);
      expect(await sha256HexWebCrypto(buffer)).toBe(expected);
    }
  });
});
