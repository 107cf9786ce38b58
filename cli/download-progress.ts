import type { DownloadProgress } from '../src/index.js';

const MB = 1e6;

/**
 * A `download.onProgress` that prints one line to `write` at every tenth of
 * the file (every 10 MB when the server sends no size), and one at the end.
 */
export function progressLines(write: (line: string) => void): (progress: DownloadProgress) => void {
  let printed = 0;
  return ({ receivedBytes, totalBytes, done }) => {
    const step = totalBytes ? Math.floor((10 * receivedBytes) / totalBytes) : Math.floor(receivedBytes / (10 * MB));
    if (!done && step <= printed) return;
    printed = step;
    const mb = (receivedBytes / MB).toFixed(1);
    if (done) write(`  downloaded ${mb} MB.`);
    else if (totalBytes) write(`  ${String(step * 10).padStart(3)} % (${mb} of ${(totalBytes / MB).toFixed(1)} MB)`);
    else write(`  ${mb} MB …`);
  };
}
