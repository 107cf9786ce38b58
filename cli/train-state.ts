/*
 * `train`'s files in --out: the guard that refuses an existing --out, the
 * checkpoint (model.keras + state.json, written after every epoch and on
 * Ctrl-C), and runs.json. Every write goes to a temporary name inside --out
 * first, then is renamed over the old file, so an interrupted write never
 * leaves a half-written checkpoint.
 */
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { XceptionError } from '../src/index.js';
import { isSystemError, systemErrorReason, UsageError } from './cli-errors.js';
import { requireWritable } from './output-guard.js';
import type { RunRow } from './runs-table.js';
import type { TrainSettings } from './train-options.js';

/** What the checkpoint's state.json holds. */
export interface TrainState {
  /** The run's id (its row in runs.json). */
  id: string;
  started: string;
  /** Epochs completed. */
  epoch: number;
  /** Keras' History keys, one value per completed epoch. */
  history: Record<string, number[]>;
  classNames: string[];
  /** Seconds of training so far, over all sessions of the run. */
  seconds: number;
  /** The settings the run was started with. */
  settings: TrainSettings;
}

/** Paths of the files `train` writes in `out`. */
export function outputPaths(out: string) {
  return {
    checkpointModel: join(out, 'checkpoint', 'model.keras'),
    checkpointState: join(out, 'checkpoint', 'state.json'),
    history: join(out, 'history.json'),
    chart: join(out, 'history.svg'),
    keras: join(out, 'model.keras'),
    onnx: join(out, 'model.onnx'),
    classes: join(out, 'classes.json'),
    runs: join(out, 'runs.json'),
  };
}

/**
 * Refuses an --out that exists and is not empty unless --resume or
 * --overwrite says what to do with it; --resume needs its checkpoint.
 */
export function guardOut(settings: TrainSettings): void {
  const { out } = settings;
  // --out and the folders above it that do not exist yet are created with the first checkpoint;
  // the nearest one that exists must be a writable folder.
  let existing = resolve(out);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (existing === resolve(out)) requireWritable(out, 'folder');
  else {
    try {
      if (!statSync(existing).isDirectory()) throw new XceptionError(`${out}: ${existing} is not a folder (ENOTDIR)`);
      accessSync(existing, constants.W_OK);
    } catch (error) {
      if (isSystemError(error)) throw new XceptionError(`${out}: ${existing}: ${systemErrorReason(error)}`);
      throw error;
    }
  }
  const exists = existsSync(out) && statSync(out).isDirectory() && readdirSync(out).length > 0;
  if (settings.resume) {
    if (!existsSync(outputPaths(out).checkpointState)) {
      throw new XceptionError(`--resume: ${out} holds no checkpoint (${outputPaths(out).checkpointState} is missing); start a run without --resume.`);
    }
  } else if (exists && !settings.overwrite) {
    throw new UsageError(`--out ${out} exists and is not empty; pass --resume to continue its run, --overwrite to start a new run there (runs.json keeps the old rows), or another --out.`, 'train');
  }
}

/** Writes `bytes` to `path` through a temporary file beside it. */
export async function writeAtomically(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${path}.partial`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

/** Saves the checkpoint: the model as .keras, then the state. */
export async function saveCheckpoint(out: string, model: Uint8Array, state: TrainState): Promise<void> {
  const paths = outputPaths(out);
  await mkdir(join(out, 'checkpoint'), { recursive: true });
  await writeAtomically(paths.checkpointModel, model);
  await writeAtomically(paths.checkpointState, `${JSON.stringify(state, null, 2)}\n`);
}

/** Reads the checkpoint's state. */
export async function readState(out: string): Promise<TrainState> {
  const path = outputPaths(out).checkpointState;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as TrainState;
  } catch (error) {
    throw new XceptionError(`--resume: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The rows of runs.json (none when it does not exist). */
export async function readRuns(out: string): Promise<RunRow[]> {
  const path = outputPaths(out).runs;
  if (!existsSync(path)) return [];
  try {
    const rows = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (!Array.isArray(rows)) throw new Error('not a JSON array');
    return rows as RunRow[];
  } catch (error) {
    throw new XceptionError(`${path}: not a list of runs (${(error as Error).message}); move it away to start a new list.`);
  }
}
