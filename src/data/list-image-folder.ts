import { XceptionDataError } from '../errors.js';
import { importNode } from '../platform/node-import.js';

/** The image files of a class folder, and the class names. @internal */
export interface ImageFolderListing {
  /** Class names, sorted (code-point order, as Python's `sorted`). */
  classNames: string[];
  /** Per class, its files' paths, sorted. */
  files: string[][];
}

/** The file extensions read as images (case-insensitive). @internal */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

const isImageName = (name: string) => !name.startsWith('.') && IMAGE_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext));

/**
 * Lists `dir`'s class sub-folders and their image files (hidden entries and
 * other files are ignored), stopping as soon as more than `maxFiles` images
 * are found. Refuses a missing folder, fewer than two classes and an empty
 * class, naming it. @internal
 */
export async function listImageFolder(dir: string, maxFiles: number): Promise<ImageFolderListing> {
  const { opendir } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
  const { join } = await importNode<typeof import('node:path')>('node:path');
  const entries = async function* (folder: string) {
    let handle;
    try {
      handle = await opendir(folder);
    } catch (error) {
      throw new XceptionDataError(`cannot read the image folder ${folder}: ${(error as Error).message}`, { cause: error });
    }
    for await (const entry of handle) yield entry;
  };
  const classNames: string[] = [];
  for await (const entry of entries(dir)) {
    if (!entry.name.startsWith('.') && (entry.isDirectory() || (entry.isSymbolicLink() && (await isFolder(join(dir, entry.name)))))) classNames.push(entry.name);
  }
  classNames.sort();
  if (classNames.length === 0) {
    throw new XceptionDataError(`${dir} holds no class sub-folders; expected one sub-folder per class, e.g. ${join(dir, 'cats', '001.jpg')} and ${join(dir, 'dogs', '001.jpg')}.`);
  }
  if (classNames.length === 1) {
    throw new XceptionDataError(`${dir} holds one class sub-folder ('${classNames[0]}'); a classifier needs at least 2 classes, one sub-folder each.`);
  }
  let total = 0;
  const files: string[][] = [];
  for (const name of classNames) {
    const folder = join(dir, name);
    const found: string[] = [];
    for await (const entry of entries(folder)) {
      if (!isImageName(entry.name) || entry.isDirectory()) continue;
      if (++total > maxFiles) {
        throw new XceptionDataError(`${dir} holds more than ${maxFiles} image files (maxFiles); raise maxFiles if the folder is genuine.`);
      }
      found.push(join(folder, entry.name));
    }
    if (found.length === 0) {
      throw new XceptionDataError(`${folder}: the class folder '${name}' holds no ${IMAGE_EXTENSIONS.join(', ')} file; add images or remove the folder.`);
    }
    files.push(found.sort());
  }
  return { classNames, files };
}

async function isFolder(path: string): Promise<boolean> {
  const { stat } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
  return stat(path).then((s) => s.isDirectory(), () => false);
}
