import { unzipSync, zipSync, type UnzipFileInfo } from 'fflate';
import { XceptionModelFileError } from '../errors.js';
import type { KerasJson } from './keras-config.js';
import { KERAS_FILE_LIMITS } from './keras-file-limits.js';

/** The members of a Keras 3 `.keras` archive that matter here. @internal */
export interface KerasArchive {
  /** `config.json`: the serialized model. */
  config: KerasJson;
  /** `metadata.json` (`keras_version`, `date_saved`); empty when the archive has none. */
  metadata: KerasJson;
  /** `model.weights.h5`: the weights in the Keras 3 `.weights.h5` layout. */
  weights: ArrayBuffer;
}

const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];
const CONFIG = 'config.json';
const METADATA = 'metadata.json';
const WEIGHTS = 'model.weights.h5';
/** JSON members are small (Xception's config is ~100 kB); anything above this is not a Keras config. */
const MAX_JSON_BYTES = KERAS_FILE_LIMITS.maxConfigBytes;

/** Whether the bytes start like a zip archive (a `.keras` file). @internal */
export function isZip(bytes: ArrayBuffer): boolean {
  const head = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  return bytes.byteLength >= 4 && ZIP_SIGNATURE.every((byte, i) => head[i] === byte);
}

/**
 * Reads a `.keras` archive. Only the three known members are inflated, and
 * only when their declared sizes are within bounds, so a zip bomb is refused
 * before it is inflated (and a member that lies about its size is cut at the
 * declared size, which then fails to parse). @internal
 */
export function readKerasArchive(bytes: ArrayBuffer, label: string, maxBytes: number): KerasArchive {
  const declared = new Map<string, UnzipFileInfo>();
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(new Uint8Array(bytes), {
      filter: (file) => {
        if (file.name !== CONFIG && file.name !== METADATA && file.name !== WEIGHTS) return false;
        declared.set(file.name, file);
        const limit = file.name === WEIGHTS ? maxBytes : MAX_JSON_BYTES;
        if (file.originalSize > limit) {
          throw new XceptionModelFileError(
            `${label}: archive member ${file.name} declares ${file.originalSize} bytes uncompressed ` +
              `(${file.size} compressed), above the limit of ${limit}` +
              `${file.name === WEIGHTS ? ' (raise maxUncompressedBytes to accept it)' : ''}; refusing to inflate it.`,
          );
        }
        return true;
      },
    });
  } catch (error) {
    if (error instanceof XceptionModelFileError) throw error;
    throw new XceptionModelFileError(
      `${label} starts like a zip archive (.keras) but cannot be unpacked: ${(error as Error).message ?? String(error)}.`,
    );
  }
  for (const name of [CONFIG, WEIGHTS]) {
    if (!members[name]) {
      throw new XceptionModelFileError(
        `${label} is a zip archive without ${name}; a Keras 3 .keras archive holds ${CONFIG}, ${WEIGHTS} and ${METADATA}.`,
      );
    }
  }
  const weights = members[WEIGHTS]!;
  return {
    config: parseJson(members[CONFIG]!, `${label}: ${CONFIG}`),
    metadata: members[METADATA] ? parseJson(members[METADATA]!, `${label}: ${METADATA}`) : {},
    weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
  };
}

/** Writes a `.keras` archive: the JSON members deflated, the HDF5 weights stored, as Keras does. @internal */
export function writeKerasArchive(archive: { config: KerasJson; metadata: KerasJson; weights: Uint8Array }): Uint8Array {
  const encoder = new TextEncoder();
  return zipSync({
    [METADATA]: encoder.encode(JSON.stringify(archive.metadata)),
    [CONFIG]: encoder.encode(JSON.stringify(archive.config)),
    [WEIGHTS]: [archive.weights, { level: 0 }],
  });
}

function parseJson(bytes: Uint8Array, what: string): KerasJson {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new XceptionModelFileError(`${what} is not valid JSON (${(error as Error).message.slice(0, 120)}).`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new XceptionModelFileError(`${what} is JSON but not an object.`);
  }
  return value as KerasJson;
}
