// What GPU WebGPU would run on here, told apart from software adapters (SwiftShader, lavapipe,
// llvmpipe, WARP), without creating a WebGPU device where that can be avoided.
import { importNode, isNode } from './node-import.js';

/** What was found: a real GPU, only a software adapter, none, or nothing that can be told here. */
export type GpuAdapterKind = 'hardware' | 'software' | 'none' | 'unknown';

/** The WebGPU adapter this process would get, as far as it can be told. @internal */
export interface GpuAdapterProbe {
  kind: GpuAdapterKind;
  /** A short description: the adapter's vendor and architecture, or the drivers found. */
  description: string;
}

const SOFTWARE_ADAPTER = /swiftshader|lavapipe|llvmpipe|libvulkan_lvp|lvp_icd|softpipe|microsoft basic render|\bwarp\b/i;

/**
 * The WebGPU adapter of this environment. Browsers: `navigator.gpu.requestAdapter()` and its
 * info (a fallback adapter or a SwiftShader/llvmpipe/WARP description is software). Node on
 * Linux: the Vulkan drivers Dawn's loader would use (`VK_DRIVER_FILES`/`VK_ICD_FILENAMES`, else
 * the standard `icd.d` folders), a hardware driver counting only with a GPU device node
 * (`/dev/dri/renderD*`, `/dev/nvidia*`: Mesa installs Intel and AMD manifests on every machine).
 * macOS: Metal, always a GPU. Windows: `'unknown'` (which D3D12 adapter Dawn picks cannot be read
 * from Node without a WebGPU binding). @internal
 */
export async function probeGpuAdapter(): Promise<GpuAdapterProbe> {
  const gpu = (globalThis as { navigator?: { gpu?: BrowserGpu } }).navigator?.gpu;
  if (gpu && !isNode()) return probeBrowserAdapter(gpu);
  if (!isNode()) return { kind: 'none', description: 'this browser has no WebGPU (navigator.gpu is missing)' };
  if (process.platform === 'darwin') return { kind: 'hardware', description: 'Metal (macOS)' };
  if (process.platform === 'linux') return probeVulkanDrivers();
  return { kind: 'unknown', description: `${process.platform}: the adapter Dawn would pick cannot be read from Node` };
}

interface BrowserAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface BrowserAdapter {
  info?: BrowserAdapterInfo;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<BrowserAdapterInfo>;
}
interface BrowserGpu {
  requestAdapter(): Promise<BrowserAdapter | null>;
}

async function probeBrowserAdapter(gpu: BrowserGpu): Promise<GpuAdapterProbe> {
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { kind: 'none', description: 'navigator.gpu.requestAdapter() returned no adapter' };
  const info = adapter.info ?? (await adapter.requestAdapterInfo?.().catch(() => undefined)) ?? {};
  const description = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'an adapter without info';
  const software = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || SOFTWARE_ADAPTER.test(description);
  return { kind: software ? 'software' : 'hardware', description: software ? `${description} (software)` : description };
}

/** The Vulkan drivers of a Linux machine, classified, and whether a GPU device node exists. */
async function probeVulkanDrivers(): Promise<GpuAdapterProbe> {
  const fs = await importNode<typeof import('node:fs')>('node:fs');
  const path = await importNode<typeof import('node:path')>('node:path');
  const os = await importNode<typeof import('node:os')>('node:os');
  const listed = process.env['VK_DRIVER_FILES'] ?? process.env['VK_ICD_FILENAMES'];
  const manifests: string[] = [];
  const addFolder = (dir: string) => {
    try {
      for (const name of fs.readdirSync(dir)) if (name.endsWith('.json')) manifests.push(path.join(dir, name));
    } catch {
      // a folder that does not exist adds nothing
    }
  };
  if (listed) {
    for (const entry of listed.split(':').filter(Boolean)) {
      if (entry.endsWith('.json')) manifests.push(entry);
      else addFolder(entry);
    }
  } else {
    const config = (process.env['XDG_CONFIG_DIRS'] || '/etc/xdg').split(':');
    const data = [process.env['XDG_DATA_HOME'] || path.join(os.homedir(), '.local/share'), ...(process.env['XDG_DATA_DIRS'] || '/usr/local/share:/usr/share').split(':')];
    for (const base of [...config, '/etc', ...data]) addFolder(path.join(base, 'vulkan/icd.d'));
  }
  const drivers = manifests.map((file) => {
    let library = '';
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8').slice(0, 65_536)) as { ICD?: { library_path?: unknown } };
      library = typeof parsed.ICD?.library_path === 'string' ? parsed.ICD.library_path : '';
    } catch {
      // an unreadable manifest is no driver
    }
    return { name: path.basename(library || file), software: SOFTWARE_ADAPTER.test(`${file} ${library}`), readable: library !== '' };
  }).filter((driver) => driver.readable);
  const hardware = drivers.filter((d) => !d.software);
  const software = drivers.filter((d) => d.software);
  const deviceNodes = gpuDeviceNodes(fs);
  if (hardware.length > 0 && deviceNodes.length > 0) {
    return { kind: 'hardware', description: `Vulkan ${hardware.map((d) => d.name).join(', ')} with ${deviceNodes.join(', ')}` };
  }
  if (software.length > 0) {
    const ignored = hardware.length > 0 ? `; ${hardware.map((d) => d.name).join(', ')} installed but no GPU device node (/dev/dri/renderD*, /dev/nvidia*)` : '';
    return { kind: 'software', description: `only software Vulkan drivers: ${software.map((d) => d.name).join(', ')}${ignored}` };
  }
  if (hardware.length > 0) return { kind: 'none', description: `Vulkan drivers ${hardware.map((d) => d.name).join(', ')} but no GPU device node (/dev/dri/renderD*, /dev/nvidia*)` };
  return { kind: 'none', description: listed ? `no Vulkan driver manifest in ${listed}` : 'no Vulkan driver (no icd.d manifest)' };
}

function gpuDeviceNodes(fs: typeof import('node:fs')): string[] {
  const nodes: string[] = [];
  try {
    for (const name of fs.readdirSync('/dev/dri')) if (name.startsWith('renderD')) nodes.push(`/dev/dri/${name}`);
  } catch {
    // no DRM devices
  }
  if (fs.existsSync('/dev/nvidia0')) nodes.push('/dev/nvidia0');
  return nodes;
}
