/** The longest file-name part kept from a URL (the whole name stays far below the usual 255-byte limit). @internal */
export const MAX_CACHE_NAME_LENGTH = 100;

/**
 * The cache file name of a verified download: `<md5>-<name>`, where `<name>`
 * is the URL's last path segment restricted to `[A-Za-z0-9._-]` (anything
 * else, percent escapes included, becomes `_`; never decoded), runs of
 * dots collapsed, no leading dot, at most {@link MAX_CACHE_NAME_LENGTH} characters, and
 * `weights.h5` when nothing is left. It can therefore name no other folder
 * (no `/`, `\`, `..` or NUL), no hidden file, and nothing too long; the
 * cache is content-addressed by the MD5, so two URLs of one file share an
 * entry and two different files never do. @internal
 */
export function cacheFileName(url: string, md5: string): string {
  const path = url.replace(/[?#].*$/s, '');
  const last = path.slice(path.lastIndexOf('/') + 1);
  const safe = last
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^\./, '')
    .slice(0, MAX_CACHE_NAME_LENGTH);
  return `${md5}-${safe === '' ? 'weights.h5' : safe}`;
}
