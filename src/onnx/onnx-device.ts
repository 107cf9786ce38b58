// Which device ONNX Runtime runs a session on: 'auto' | 'cpu' | 'webgpu' | 'cuda', resolved to
// execution providers, with what was found and why, and a typed error for a device that is not there.
import { XceptionConfigError, XceptionDeviceError } from '../errors.js';
import { probeGpuAdapter, type GpuAdapterProbe } from '../platform/gpu-adapter.js';
import { importNode, isNode } from '../platform/node-import.js';
import type { OnnxRuntime, OrtSession } from './onnx-classifier.js';

/**
 * Where ONNX Runtime runs: `'cpu'` (the CPU provider in Node, wasm in browsers), `'webgpu'`
 * (Dawn over Vulkan, Metal or D3D12 in Node; the browser's WebGPU), `'cuda'` (onnxruntime-node's
 * CUDA provider, installed with `ONNXRUNTIME_NODE_INSTALL=cuda12`), or `'auto'`: CUDA when its
 * provider library is installed, then WebGPU when the adapter is a real GPU (never a software
 * adapter such as SwiftShader or llvmpipe), else the CPU.
 *
 * @example
 * ```ts
 * const trainer = await createOnnxTrainer(model, { device: 'auto' });
 * console.log(trainer.device.device, trainer.device.reason); // e.g. 'cpu', 'auto: no CUDA provider; WebGPU: only software Vulkan drivers …'
 * ```
 * @category ONNX
 */
export type OnnxDevice = 'auto' | 'cpu' | 'webgpu' | 'cuda';

/**
 * The device a trainer or classifier runs on, and why.
 *
 * @example
 * ```ts
 * const { device, executionProviders, adapter, reason } = trainer.device;
 * ```
 * @category ONNX
 */
export interface OnnxDeviceInfo {
  /** The device the sessions run on. */
  readonly device: 'cpu' | 'webgpu' | 'cuda';
  /** What was asked for: a device, or `'executionProviders'` when they were given directly. */
  readonly requested: OnnxDevice | 'executionProviders';
  /** The execution providers given to ONNX Runtime, in order. */
  readonly executionProviders: readonly string[];
  /** The GPU or adapter found for WebGPU and whether it is software, where that can be told. */
  readonly adapter?: string;
  /** Why this device: for `'auto'`, what each candidate was found to be. */
  readonly reason: string;
}

/**
 * An execution provider as ONNX Runtime takes it: a name, or a name with options.
 *
 * @example
 * ```ts
 * const providers: ExecutionProvider[] = [{ name: 'cuda', deviceId: 1 }, 'cpu'];
 * ```
 * @category ONNX
 */
export type ExecutionProvider =
  | string
  | {
      /** The provider's name, e.g. `'cuda'`; the other properties are its options (e.g. `deviceId`). */
      name: string;
      [option: string]: unknown;
    };

const DEVICES: readonly OnnxDevice[] = ['auto', 'cpu', 'webgpu', 'cuda'];

/** Refuses anything but a device name. @internal */
export function requireDevice(device: unknown, where: string, ErrorClass: new (message: string) => Error = XceptionConfigError): OnnxDevice {
  if (!DEVICES.includes(device as OnnxDevice)) {
    throw new ErrorClass(`${where}: device must be one of ${DEVICES.map((d) => `'${d}'`).join(', ')}; got ${JSON.stringify(device) ?? String(device)}.`);
  }
  return device as OnnxDevice;
}

/** A session, the device it runs on, and the providers to open more sessions on the same device. @internal */
export interface OpenedSession {
  session: OrtSession;
  device: OnnxDeviceInfo;
  providers: readonly ExecutionProvider[];
}

interface Candidate {
  device: OnnxDeviceInfo['device'];
  executionProviders: string[];
  adapter?: string;
}

/**
 * Opens a session for `model` (bytes, or a function that writes them for the execution providers
 * about to be tried) on the requested device. Explicit devices either start or throw
 * {@link XceptionDeviceError} naming what was found; `'auto'` tries CUDA (when its library is
 * installed) and a hardware WebGPU adapter in turn, and falls back to the CPU with the reason.
 * With `executionProviders` given, they are used as they are. @internal
 */
export async function openSessionOnDevice(
  ort: OnnxRuntime,
  model: Uint8Array | ((executionProviders: readonly string[]) => Promise<Uint8Array>),
  sessionOptions: Record<string, unknown>,
  requested: OnnxDevice | { executionProviders: readonly ExecutionProvider[] },
  where: string,
): Promise<OpenedSession> {
  if (typeof requested === 'object') {
    const providers = [...requested.executionProviders];
    const names = providers.map((p) => (typeof p === 'string' ? p : p.name));
    const bytes = typeof model === 'function' ? await model(names) : model;
    const session = await ort.InferenceSession.create(bytes, { ...sessionOptions, executionProviders: providers }).catch(async (error: unknown) => {
      const found = await describeDevices(runsInNode(ort));
      throw new XceptionDeviceError(
        `${where}: executionProviders [${names.map((n) => `'${n}'`).join(', ')}] did not start: ${firstLine(error)}; found: ${found.list.join(', ')}.`,
        found.list,
      );
    });
    const first = names[0] ?? 'cpu';
    const device = first === 'webgpu' ? 'webgpu' : first === 'cuda' ? 'cuda' : 'cpu';
    return { session, providers, device: { device, requested: 'executionProviders', executionProviders: names, reason: 'executionProviders given' } };
  }
  const node = runsInNode(ort);
  const cpu: Candidate = { device: 'cpu', executionProviders: [node ? 'cpu' : 'wasm'] };
  const found = await describeDevices(node);
  const tryOpen = async (candidate: Candidate) => {
    const bytes = typeof model === 'function' ? await model(candidate.executionProviders) : model;
    return (await ort.InferenceSession.create(bytes, { ...sessionOptions, executionProviders: candidate.executionProviders })) as OrtSession;
  };
  const info = (candidate: Candidate, reason: string): OnnxDeviceInfo => ({
    device: candidate.device,
    requested,
    executionProviders: candidate.executionProviders,
    ...(candidate.adapter ? { adapter: candidate.adapter } : {}),
    reason,
  });

  if (requested === 'cpu') return { session: await tryOpen(cpu), providers: cpu.executionProviders, device: info(cpu, "device 'cpu' asked for") };
  if (requested === 'cuda' || requested === 'webgpu') {
    const candidate: Candidate = requested === 'cuda'
      ? { device: 'cuda', executionProviders: ['cuda'], adapter: found.cudaLibrary ?? 'none' }
      : { device: 'webgpu', executionProviders: ['webgpu'], adapter: found.webgpu.description };
    if (requested === 'cuda' && !found.cudaLibrary) {
      throw new XceptionDeviceError(`${where}: device 'cuda' is not available: ${found.cudaMissing}; found: ${found.list.join(', ')}.`, found.list);
    }
    try {
      return { session: await tryOpen(candidate), providers: candidate.executionProviders, device: info(candidate, `device '${requested}' asked for`) };
    } catch (error) {
      throw new XceptionDeviceError(
        `${where}: device '${requested}' did not start: ${firstLine(error)}; found: ${found.list.join(', ')}. Use device: 'auto' to fall back to the CPU.`,
        found.list,
      );
    }
  }
  // 'auto'
  const notes: string[] = [];
  if (found.cudaLibrary) {
    const cuda: Candidate = { device: 'cuda', executionProviders: ['cuda'], adapter: found.cudaLibrary };
    try {
      return { session: await tryOpen(cuda), providers: cuda.executionProviders, device: info(cuda, 'auto: the CUDA provider started') };
    } catch (error) {
      notes.push(`CUDA provider installed but did not start (${firstLine(error)})`);
    }
  } else if (node) {
    notes.push('no CUDA provider library');
  }
  if (found.webgpu.kind === 'hardware') {
    const webgpu: Candidate = { device: 'webgpu', executionProviders: ['webgpu'], adapter: found.webgpu.description };
    try {
      return { session: await tryOpen(webgpu), providers: webgpu.executionProviders, device: info(webgpu, `auto: ${[...notes, `WebGPU on ${found.webgpu.description}`].join('; ')}`) };
    } catch (error) {
      notes.push(`WebGPU did not start on ${found.webgpu.description} (${firstLine(error)})`);
    }
  } else {
    notes.push(`WebGPU not used: ${found.webgpu.kind === 'software' ? `software adapter, ${found.webgpu.description}` : found.webgpu.description}`);
  }
  return { session: await tryOpen(cpu), providers: cpu.executionProviders, device: info(cpu, `auto: ${notes.join('; ')}`) };
}

/** Whether `ort` is onnxruntime-node (it reports a Node version) rather than onnxruntime-web. @internal */
export function runsInNode(ort: OnnxRuntime): boolean {
  return Boolean((ort as { env?: { versions?: { node?: string } } }).env?.versions?.node);
}

interface FoundDevices {
  webgpu: GpuAdapterProbe;
  /** The path of onnxruntime-node's CUDA provider library, when installed. */
  cudaLibrary?: string;
  cudaMissing: string;
  /** One entry per device, for messages: e.g. 'cpu', 'webgpu (software: …)'. */
  list: string[];
}

async function describeDevices(node: boolean): Promise<FoundDevices> {
  const webgpu = await probeGpuAdapter();
  const cuda = node ? await findCudaProvider() : { missing: 'CUDA runs only in Node (onnxruntime-node)' };
  const list = [node ? 'cpu' : 'cpu (wasm)'];
  if (webgpu.kind !== 'none') list.push(`webgpu (${webgpu.kind}: ${webgpu.description})`);
  if (cuda.library) list.push(`cuda (${cuda.library})`);
  return { webgpu, ...(cuda.library ? { cudaLibrary: cuda.library } : {}), cudaMissing: cuda.missing ?? '', list };
}

/**
 * onnxruntime-node's CUDA provider library, which its install script downloads only with
 * `ONNXRUNTIME_NODE_INSTALL=cuda12` (Linux x64, Windows x64), next to its native binding.
 */
async function findCudaProvider(): Promise<{ library?: string; missing?: string }> {
  const install = "onnxruntime-node's CUDA provider library is not installed (reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12 npm install onnxruntime-node; Linux and Windows x64, CUDA 12 and cuDNN 9)";
  if (!isNode() || (process.platform !== 'linux' && process.platform !== 'win32')) return { missing: `CUDA: not on ${isNode() ? process.platform : 'a browser'}` };
  try {
    const { createRequire } = await importNode<typeof import('node:module')>('node:module');
    const path = await importNode<typeof import('node:path')>('node:path');
    const fs = await importNode<typeof import('node:fs')>('node:fs');
    const main = createRequire(path.join(process.cwd(), 'package.json')).resolve('onnxruntime-node');
    const root = main.slice(0, main.lastIndexOf(`${path.sep}onnxruntime-node${path.sep}`) + '/onnxruntime-node'.length);
    const dir = path.join(root, 'bin', 'napi-v6', process.platform, process.arch);
    const file = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    const library = path.join(dir, file);
    return fs.existsSync(library) ? { library } : { missing: install };
  } catch {
    return { missing: install };
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // ONNX Runtime prefixes its messages with a source location and the failed check.
  const line = (message.split('\n').find((l) => l.trim()) ?? message).replace(/^\/onnxruntime_src\/\S+ .*? was false\.\s*/, '');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
