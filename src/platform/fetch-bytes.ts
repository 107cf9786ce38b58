import { XceptionConfigError, XceptionDownloadError } from '../errors.js';

/**
 * Limits of a download (of weights or of an ONNX model): how long to wait,
 * how much to accept, and a signal to cancel it. Every field is optional.
 * A limit that is hit throws {@link XceptionDownloadError}, naming the URL and
 * the limit.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const download: DownloadOptions = { timeoutMs: 10_000, stallTimeoutMs: 20_000, signal: controller.signal };
 * const model = await createXception({ weights: 'imagenet', download });
 * ```
 * @category Weights
 */
export interface DownloadOptions {
  /**
   * Longest wait, in milliseconds, from sending the request to receiving the
   * response headers (connecting included). `Infinity` waits for ever.
   * @defaultValue `30_000`
   */
  timeoutMs?: number;
  /**
   * Longest time, in milliseconds, the body may take to deliver its next
   * 64 KiB (or its end): catches a server that stops sending and one that
   * trickles a few bytes at a time. `Infinity` waits for ever.
   * @defaultValue `30_000`
   */
  stallTimeoutMs?: number;
  /**
   * Largest body accepted, in bytes. A `Content-Length` above it is refused
   * before the body is read, and the body is counted as it streams (a server
   * may send more than it declares).
   * @defaultValue for `weights: 'imagenet'`: 128 MiB on the `keras` preset (Keras' files are 88 MB and 80 MB), 256 MiB on the others (timm checkpoints, up to 170 MB); else 1 GiB
   */
  maxBytes?: number;
  /** Cancels the download; it then throws {@link XceptionDownloadError}. @defaultValue none */
  signal?: AbortSignal;
  /**
   * Called as the body arrives (after each chunk, and once at its end with
   * `done: true`), e.g. to draw a progress bar. Not called when the file is
   * served from the cache. An error it throws ends the download and is
   * thrown as it is.
   * @defaultValue none
   */
  onProgress?: (progress: DownloadProgress) => void;
}

/**
 * How far a download has come, as given to {@link DownloadOptions.onProgress}.
 *
 * @example
 * ```ts
 * const onProgress = ({ receivedBytes, totalBytes }: DownloadProgress) =>
 *   console.log(totalBytes ? `${Math.round((100 * receivedBytes) / totalBytes)} %` : `${receivedBytes} bytes`);
 * const model = await createXception({ weights: 'imagenet', download: { onProgress } });
 * ```
 * @category Weights
 */
export interface DownloadProgress {
  /** The URL being downloaded. */
  url: string;
  /** Bytes of the body received so far. */
  receivedBytes: number;
  /** The body's size from its `Content-Length`, or `null` when the server did not send one (or compressed the body). */
  totalBytes: number | null;
  /** `true` on the last call, once the whole body has arrived. */
  done: boolean;
}

/** The defaults of {@link DownloadOptions}. @internal */
export const DOWNLOAD_DEFAULTS = { timeoutMs: 30_000, stallTimeoutMs: 30_000, maxBytes: 2 ** 30 } as const;

/** The body must deliver this many bytes (or end) every `stallTimeoutMs`. @internal */
export const STALL_WINDOW_BYTES = 64 * 1024;

const KNOWN_DOWNLOAD_OPTIONS = ['timeoutMs', 'stallTimeoutMs', 'maxBytes', 'signal', 'onProgress'];

/** Checks {@link DownloadOptions} and fills in the defaults; `maxBytes` defaults to `defaultMaxBytes`. @internal */
export function resolveDownloadOptions(
  options: unknown,
  defaultMaxBytes: number = DOWNLOAD_DEFAULTS.maxBytes,
): Required<Omit<DownloadOptions, 'signal' | 'onProgress'>> & Pick<DownloadOptions, 'signal' | 'onProgress'> {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new XceptionConfigError(`download options must be an object; got ${options === null ? 'null' : typeof options}.`);
  }
  const unknown = Object.keys(options).filter((key) => !KNOWN_DOWNLOAD_OPTIONS.includes(key));
  if (unknown.length > 0) {
    throw new XceptionConfigError(
      `Unknown download option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
        `valid options are ${KNOWN_DOWNLOAD_OPTIONS.map((k) => `'${k}'`).join(', ')}.`,
    );
  }
  const given = options as DownloadOptions;
  const signal = given.signal;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new XceptionConfigError(`download.signal must be an AbortSignal; got ${signal === null ? 'null' : typeof signal}.`);
  }
  const onProgress = given.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new XceptionConfigError(`download.onProgress must be a function; got ${onProgress === null ? 'null' : typeof onProgress}.`);
  }
  return {
    timeoutMs: positive('download.timeoutMs', given.timeoutMs ?? DOWNLOAD_DEFAULTS.timeoutMs),
    stallTimeoutMs: positive('download.stallTimeoutMs', given.stallTimeoutMs ?? DOWNLOAD_DEFAULTS.stallTimeoutMs),
    maxBytes: positive('download.maxBytes', given.maxBytes ?? defaultMaxBytes),
    signal,
    onProgress,
  };
}

function positive(what: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || (Number.isFinite(value) && !Number.isInteger(value))) {
    throw new XceptionConfigError(`${what} must be a positive integer or Infinity; got ${typeof value === 'number' ? value : JSON.stringify(value) ?? typeof value}.`);
  }
  return value;
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' && value !== null && typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function'
  );
}

/**
 * GETs `url` into an ArrayBuffer within the limits of `options` (resolved by
 * {@link resolveDownloadOptions}): a timeout to the headers, a stall timeout
 * on the body, a size cap checked against `Content-Length` and counted while
 * streaming, a body shorter than its `Content-Length` refused, and the
 * caller's signal. Every failure is an {@link XceptionDownloadError} whose
 * message starts with `what` (e.g. `cannot download <url>`). @internal
 */
export async function fetchBytes(
  url: string,
  options: ReturnType<typeof resolveDownloadOptions>,
  what = `cannot download ${url}`,
): Promise<ArrayBuffer> {
  const { timeoutMs, stallTimeoutMs, maxBytes, signal, onProgress } = options;
  const fail = (reason: string, cause?: unknown) => new XceptionDownloadError(`${what}: ${reason}`, url, { cause });
  if (signal?.aborted) throw fail('aborted by options.signal before it started.', signal.reason);

  const controller = new AbortController();
  let stopped: 'timeout' | 'stall' | 'signal' | null = null;
  const stop = (why: 'timeout' | 'stall' | 'signal') => {
    if (stopped === null) {
      stopped = why;
      controller.abort();
    }
  };
  const onAbort = () => stop('signal');
  signal?.addEventListener('abort', onAbort, { once: true });
  const arm = (ms: number, why: 'timeout' | 'stall') => (Number.isFinite(ms) ? setTimeout(() => stop(why), ms) : undefined);
  let timer = arm(timeoutMs, 'timeout');
  let received = 0;
  let declared: number | null = null;

  /** Says why a fetch or a read failed: a limit we enforced, the caller's signal, or the network. */
  const explain = (error: unknown): XceptionDownloadError => {
    if (stopped === 'timeout') return fail(`no response within ${timeoutMs} ms (download.timeoutMs).`, error);
    if (stopped === 'stall') {
      return fail(
        `the download stalled: fewer than ${STALL_WINDOW_BYTES} bytes arrived in ${stallTimeoutMs} ms ` +
          `(download.stallTimeoutMs), after ${received} bytes.`,
        error,
      );
    }
    if (stopped === 'signal') return fail(`aborted by options.signal after ${received} bytes.`, signal?.reason ?? error);
    if (declared !== null) {
      return fail(`the connection closed after ${received} of the ${declared} bytes its Content-Length declares.`, error);
    }
    return fail(networkReason(error), error);
  };

  try {
    let response: Response;
    for (let attempt = 1; ; attempt++) {
      try {
        response = await fetch(url, { signal: controller.signal });
        break;
      } catch (error) {
        // A kept-alive connection the server closed just as it was reused fails before any response
        // (nodejs/node#47130); a GET may be sent again, once, within the same timeoutMs.
        if (attempt === 1 && stopped === null && isClosedConnection(error)) continue;
        throw explain(error);
      }
    }
    clearTimeout(timer);
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw fail(`HTTP ${response.status}.`);
    }
    const length = parseContentLength(response.headers.get('content-length'));
    if (length !== null && length > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw fail(`its Content-Length of ${length} bytes is above download.maxBytes (${maxBytes}).`);
    }
    // A compressed body is decoded on the way: its Content-Length counts the encoded bytes.
    const encoding = response.headers.get('content-encoding');
    if (!encoding || encoding === 'identity') declared = length;

    const reader = response.body?.getReader();
    const chunks: Uint8Array[] = [];
    if (!reader) {
      // Runtimes without streamed bodies: read it whole, then check.
      let whole: ArrayBuffer;
      try {
        whole = await response.arrayBuffer();
      } catch (error) {
        throw explain(error);
      }
      received = whole.byteLength;
      chunks.push(new Uint8Array(whole));
    } else {
      let windowStart = 0;
      timer = arm(stallTimeoutMs, 'stall');
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          throw explain(error);
        }
        if (chunk.done) break;
        received += chunk.value.byteLength;
        if (received > maxBytes) break;
        chunks.push(chunk.value);
        if (onProgress) {
          try {
            onProgress({ url, receivedBytes: received, totalBytes: declared, done: false });
          } catch (error) {
            await reader.cancel().catch(() => {});
            throw error;
          }
        }
        if (received - windowStart >= STALL_WINDOW_BYTES) {
          windowStart = received;
          clearTimeout(timer);
          timer = arm(stallTimeoutMs, 'stall');
        }
      }
      if (received > maxBytes) await reader.cancel().catch(() => {});
    }
    if (received > maxBytes) {
      throw fail(`the body is larger than download.maxBytes (${maxBytes}); stopped reading at ${received} bytes.`);
    }
    if (declared !== null && received < declared) {
      throw fail(`the connection closed after ${received} of the ${declared} bytes its Content-Length declares.`);
    }
    onProgress?.({ url, receivedBytes: received, totalBytes: declared, done: true });
    return concat(chunks, received);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** A non-negative integer Content-Length, or null when absent or malformed. */
function parseContentLength(header: string | null): number | null {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return null;
  const value = Number(header);
  return Number.isSafeInteger(value) ? value : null;
}

/** Whether a failed fetch() lost its connection before any response (a reset or closed socket). */
function isClosedConnection(error: unknown): boolean {
  const code = (error instanceof Error ? (error.cause as { code?: unknown } | undefined)?.code : undefined) ?? null;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}

/** undici says "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND, …) in `cause`. */
function networkReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const detail = cause?.code ?? cause?.message;
  return `${message}${detail ? ` (${detail})` : ''}.`;
}

function concat(chunks: Uint8Array[], total: number): ArrayBuffer {
  if (chunks.length === 1 && chunks[0]!.byteOffset === 0 && chunks[0]!.byteLength === chunks[0]!.buffer.byteLength) {
    return chunks[0]!.buffer as ArrayBuffer;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out.buffer;
}
