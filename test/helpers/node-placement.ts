// Where ONNX Runtime ran each node of a graph: one profiled run, read from its JSON profile.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

/** Nodes run per execution provider, and the nodes (op and name) that ran outside `expected`. */
export interface NodePlacement {
  byProvider: Record<string, number>;
  elsewhere: string[];
}

/**
 * Runs `bytes` once on `providers` with profiling on and counts the kernels each provider ran
 * (the profile's `*_kernel_time` events carry `args.provider`): what actually ran, not what
 * the session planned.
 */
export async function profileNodePlacement(
  bytes: Uint8Array,
  feeds: Record<string, ort.Tensor>,
  providers: string[],
  expected = 'WebGpuExecutionProvider',
): Promise<NodePlacement> {
  const dir = mkdtempSync(join(tmpdir(), 'xception-profile-'));
  try {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: providers,
      enableProfiling: true,
      profileFilePrefix: join(dir, 'run'),
    } as ort.InferenceSession.SessionOptions);
    try {
      await session.run(feeds);
      session.endProfiling();
    } finally {
      await session.release();
    }
    const file = readdirSync(dir).find((name) => name.endsWith('.json'));
    if (!file) throw new Error(`ONNX Runtime wrote no profile into ${dir}`);
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cat: string; name: string; args?: { provider?: string; op_name?: string } }[];
    const byProvider: Record<string, number> = {};
    const elsewhere: string[] = [];
    for (const event of events) {
      if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
      const provider = event.args?.provider ?? 'unknown';
      byProvider[provider] = (byProvider[provider] ?? 0) + 1;
      if (provider !== expected) elsewhere.push(`${event.args?.op_name} ${event.name.replace(/_kernel_time$/, '')} (${provider})`);
    }
    return { byProvider, elsewhere };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
