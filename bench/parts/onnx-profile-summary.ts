// Sums an ONNX Runtime profile (the JSON trace that session.endProfiling() writes, e.g. from
// `onnx-training-step.ts --profile`) by operator type and by node, per session run.
//   npx tsx bench/parts/onnx-profile-summary.ts <trace.json> [--top 25] [--skip 2]
// --skip K leaves out the first K runs (warm-up: first-touch page faults, allocations), which
// can double a kernel's share.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, skip: { type: 'string', default: '0' } } });
if (positionals.length !== 1) throw new Error('usage: onnx-profile-summary.ts <trace.json> [--top 25]');
type Event = { cat?: string; name: string; dur: number; ts: number; args?: { op_name?: string } };
const events = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Event[];
const allRuns = events.filter((e) => e.name === 'model_run');
const kept = allRuns.slice(Number(values.skip));
if (kept.length === 0) throw new Error(`the trace has ${allRuns.length} runs; --skip ${values.skip} leaves none`);
const runs = kept.length;
const from = kept[0]!.ts;
const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= from);
const byOp = new Map<string, number>();
const byNode = new Map<string, number>();
const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
for (const e of kernels) {
  add(byOp, e.args?.op_name ?? '?', e.dur);
  add(byNode, e.name.slice(0, -'_kernel_time'.length), e.dur);
}
const total = [...byOp.values()].reduce((a, b) => a + b, 0);
const top = Number(values.top);
const show = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${key.padEnd(64)} ${(us / runs / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%`);
  }
};
console.log(`${runs} runs, kernel time ${(total / runs / 1000).toFixed(0)} ms per run`);
show('by operator type', byOp);
show('by node', byNode);
