/**
 * Where one engine Graph WaveNet training step spends its time (issue #22): the bench's step (bench/support/
 * gwn-engine-bench.ts: widths 8/32/64, batch 16, 12 in / 12 out, Adam, clip 5) run under the V8 sampling
 * profiler (node:inspector), self time summed per function. WebAssembly functions carry no names in
 * build/nn.wasm, so `wasm-function[i]` is named from the module's export section (unexported ones, e.g. the
 * GEMM micro-kernel and packing routines called by `sgemm`, stay numbered).
 *
 *   node --import tsx bench/gwn-profile.ts [--nodes 207 --steps 5 --top 20]
 *
 * Measured on the loaded shared machine (2026-12-06, 207 nodes, 4 steps, 1,322 ms/step under load): the GEMM
 * (wasm-function[16..18], sgemm's unexported packing and micro-kernel) ~60 %; the gated TCN's tanh/sigmoid bias
 * ~17 % (the reference TS kernels `channelBiasActivation` + `activate`: the wasm override handled only
 * identity/ReLU); nnSwapAxes01 (the diffusion's per-example node-major swaps) ~6 %; dropout masks (reference
 * TS) ~3 %; GC ~2.5 %; nnActivationBackward ~2 %. After the wasm tanh/sigmoid bias (same run conditions, 481
 * ms/step): sgemm and its internals ~315 ms/step, swaps 34, the wasm exp/tanh ~34, dropout masks 12.
 *
 * Why batching the diffusion GEMMs would not pay: the step is FLOP-bound in dense diffusion. Per example and
 * graph convolution there are S·K = 6 GEMMs Aᵀ[N×N]·X[N × C·T] forward (2 fixed supports + the adaptive one, K =
 * 2) and 8 backward (6 for dX, 2 for dÃ); with N = 207, C = 8 and T = 12, 10, 9, 7, 6, 4, 3 over the 7 graph
 * convolutions (Σ T = 51), batch 16: 14 · 16 · 2·207²·8·51 ≈ 7.8 GFLOP, + ~0.45 GFLOP for the 1 × 1 mixes, i.e.
 * ~8.3 GFLOP per step in ~315 ms of GEMM ≈ 26 GFLOP/s, ~80 % of one core's 128-bit peak (33.5 GFLOP/s) even
 * under load. n = C·T (24–96) already keeps the micro-kernel busy; one GEMM over the batch (n = B·C·T) would save
 * only packing and the swaps (~7 %). What would pay: the fixed supports are sparse (transition matrices of a
 * thresholded road graph, ~4–5 % non-zeros; the bench's 5 %), so a SIMD sparse·dense kernel for them would cut
 * 8 of the 14 diffusion products per graph convolution ~20× (those along Ã stay dense): about half the FLOPs.
 * Done (graph-diffusion-conv.ts, sparseDiffuse): GEMM ~315 → ~215 ms/step plus nnSparseDiffuse ~44 ms/step
 * (loaded, load average ~11–14 on 2 cores; compare only within one run).
 */
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import { compileBenchModel } from './support/gwn-engine-bench.js';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '207' }, steps: { type: 'string', default: '5' }, top: { type: 'string', default: '20' } } });
const plan = { nodes: Number(values.nodes), residual: 8, skip: 32, end: 64, batch: 16, warmup: 1, steps: Number(values.steps) };

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** function index → export name, read from the wasm binary's import and export sections */
function wasmExportNames(bytes: Uint8Array): Map<number, string> {
  let p = 8;
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[p++]!;
      result |= (byte & 127) << shift;
      shift += 7;
    } while (byte & 128);
    return result >>> 0;
  };
  const names = new Map<number, string>();
  while (p < bytes.length) {
    const id = bytes[p++]!;
    const size = leb();
    const end = p + size;
    if (id === 7) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        const length = leb();
        const name = new TextDecoder().decode(bytes.subarray(p, p + length));
        p += length;
        const kind = bytes[p++]!;
        const index = leb();
        if (kind === 0) names.set(index, name);
      }
    }
    p = end;
  }
  return names;
}

function post<T>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, (error, result) => (error ? reject(error) : resolve(result as T))));
}

const { trainer, x, labels } = compileBenchModel(plan);
for (let i = 0; i < plan.warmup; i++) trainer.step(x, labels);
const session = new Session();
session.connect();
await post(session, 'Profiler.enable');
await post(session, 'Profiler.start');
const started = performance.now();
for (let i = 0; i < plan.steps; i++) trainer.step(x, labels);
const elapsed = performance.now() - started;
const { profile } = await post<{ profile: CpuProfile }>(session, 'Profiler.stop');
session.disconnect();

const names = wasmExportNames(readFileSync(new URL('../build/nn.wasm', import.meta.url)));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfMs = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const frame = byId.get(id)!.callFrame;
  const wasm = /^wasm-function\[(\d+)\]$/.exec(frame.functionName);
  const label = wasm ? `wasm ${names.get(Number(wasm[1])) ?? frame.functionName}` : `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}`;
  selfMs.set(label, (selfMs.get(label) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
});
console.log(`GWN ${plan.nodes} nodes b${plan.batch}: ${plan.steps} steps, ${(elapsed / plan.steps).toFixed(1)} ms/step (wall clock, whatever the machine's load)`);
for (const [label, ms] of [...selfMs].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`${(ms / plan.steps).toFixed(1).padStart(8)} ms/step ${((100 * ms) / elapsed).toFixed(1).padStart(5)} %  ${label}`);
}
