// Points Dawn (onnxruntime-node's WebGPU provider) at SwiftShader's Vulkan driver, a software
// GPU that Debian's chromium package installs, so that WebGPU tests run on machines without a GPU.
import { existsSync } from 'node:fs';

/** Where SwiftShader's Vulkan manifest may be: Debian's chromium, or a path in XCEPTION_TS_SWIFTSHADER_ICD. */
const SWIFTSHADER_MANIFESTS = [process.env['XCEPTION_TS_SWIFTSHADER_ICD'], '/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

/**
 * Makes this test process's Vulkan loader see SwiftShader alone (unless `VK_ICD_FILENAMES` or
 * `VK_DRIVER_FILES` already names a driver) and says what it chose. Returns null, with the
 * reason, when no SwiftShader manifest exists: the caller skips with a notice.
 */
export function useSoftwareVulkan(): { manifest: string } | { missing: string } {
  const given = process.env['VK_ICD_FILENAMES'] ?? process.env['VK_DRIVER_FILES'];
  if (given) return { manifest: given };
  const manifest = SWIFTSHADER_MANIFESTS.find((file): file is string => Boolean(file) && existsSync(file!));
  if (!manifest) return { missing: `no SwiftShader Vulkan driver (apt-get install chromium libvulkan1, or set XCEPTION_TS_SWIFTSHADER_ICD)` };
  process.env['VK_ICD_FILENAMES'] = manifest;
  process.env['XDG_RUNTIME_DIR'] ??= '/tmp'; // SwiftShader's WSI complains on stderr without one
  return { manifest };
}

/** Whether the Vulkan loader library that Dawn opens is installed. */
export function hasVulkanLoader(): boolean {
  return ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].some((file) => existsSync(file));
}
