/**
 * bench:merge — merge throughput on a synthetic Llama-shaped bf16 family (issue #3 acceptance; engines.md §4,
 * §7). Writes base + 3 fine-tunes (TinyLlama shapes: hidden 2048, intermediate 5632, 22 layers, 32 KV-grouped
 * heads, vocab 32000 → ~2.2 GB each) with our writer under /tmp, warms the page cache, then measures in one run:
 * memory copy bandwidth (TypedArray.set, `cat model > /dev/null`), modelevo linear and ties (wasm kernels),
 * and the same merges by bench/merge_torch.py. Every merge runs in its own child process so its peak RSS
 * (`process.resourceUsage().maxRSS`) is its own. Outputs go to /dev/shm (tmpfs) so disk write speed and fsync
 * are measured for neither tool. GB/s = input bytes / wall time. Removes everything at the end.
 *
 *   npm run bench:merge [-- --layers 22 --skip-torch --reference]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelFolderWriter } from '../src/io/shard-writer.js';
import { runMerge } from '../src/merge/index.js';

const HIDDEN = 2048;
const INTERMEDIATE = 5632;
const KV = 256;
const VOCAB = 32000;

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function llamaSpecs(layers: number): { name: string; shape: number[] }[] {
  const specs = [{ name: 'model.embed_tokens.weight', shape: [VOCAB, HIDDEN] }];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    specs.push(
      { name: `${p}.input_layernorm.weight`, shape: [HIDDEN] },
      { name: `${p}.self_attn.q_proj.weight`, shape: [HIDDEN, HIDDEN] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [KV, HIDDEN] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [KV, HIDDEN] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [HIDDEN, HIDDEN] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [HIDDEN] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [INTERMEDIATE, HIDDEN] },
      { name: `${p}.mlp.up_proj.weight`, shape: [INTERMEDIATE, HIDDEN] },
      { name: `${p}.mlp.down_proj.weight`, shape: [HIDDEN, INTERMEDIATE] },
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [HIDDEN] }, { name: 'lm_head.weight', shape: [VOCAB, HIDDEN] });
  return specs;
}

/** bf16 bits of roughly N(0, σ) values from a seeded generator (a 16M-value pool, read at rotating offsets). */
function bf16Pool(seed: number, sigma: number, size = 1 << 24): Uint16Array {
  const pool = new Uint16Array(size);
  const f = new Float32Array(1);
  const bits = new Uint32Array(f.buffer);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    let sum = 0;
    for (let k = 0; k < 4; k++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      sum += (s >>> 0) / 2 ** 32;
    }
    f[0] = (sum - 2) * sigma * 1.73;
    pool[i] = (bits[0]! + 0x7fff + ((bits[0]! >>> 16) & 1)) >>> 16;
  }
  return pool;
}

function writeFamily(dir: string, layers: number): string[] {
  const specs = llamaSpecs(layers).map((s) => ({ ...s, dtype: 'BF16' as const }));
  const base = bf16Pool(1, 0.02);
  const decode = new Float32Array(1);
  const decodeBits = new Uint32Array(decode.buffer);
  const folders: string[] = [];
  for (let m = 0; m < 4; m++) {
    const folder = join(dir, m === 0 ? 'base' : `ft-${m}`);
    const delta = m === 0 ? undefined : bf16Pool(100 + m, 0.002);
    const writer = ModelFolderWriter.create(folder, specs, { maxShardBytes: 1e9 });
    let cursor = 0;
    for (const spec of specs) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const k = (cursor + i) & (base.length - 1);
        if (delta === undefined) out[i] = base[k]!;
        else {
          decodeBits[0] = (base[k]! << 16) >>> 0;
          const b = decode[0]!;
          decodeBits[0] = (delta[(k * 7 + m) & (delta.length - 1)]! << 16) >>> 0;
          decode[0] = b + decode[0]!;
          out[i] = (decodeBits[0]! + 0x7fff + ((decodeBits[0]! >>> 16) & 1)) >>> 16;
        }
      }
      cursor += 9973 * (m + 1);
      writer.writeTensor(spec.name, new Uint8Array(out.buffer));
    }
    writer.commit();
    const config = { architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: HIDDEN, intermediate_size: INTERMEDIATE, num_hidden_layers: layers, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: VOCAB, torch_dtype: 'bfloat16' };
    writeFileSync(join(folder, 'config.json'), JSON.stringify(config, null, 2));
    folders.push(folder);
  }
  return folders;
}

function folderBytes(folder: string): number {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((sum, f) => sum + Number(execFileSync('stat', ['-c', '%s', join(folder, f)]).toString().trim()), 0);
}

function catSeconds(folder: string): number {
  const files = readdirSync(folder).filter((f) => f.endsWith('.safetensors')).map((f) => join(folder, f));
  const started = performance.now();
  execFileSync('sh', ['-c', `cat ${files.map((f) => `'${f}'`).join(' ')} > /dev/null`]);
  return (performance.now() - started) / 1000;
}

function setBandwidth(): number {
  const bytes = 1 << 30;
  const src = new Uint8Array(bytes).fill(1);
  const dst = new Uint8Array(bytes);
  dst.set(src); // fault the pages in first
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const started = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - started);
  }
  return bytes / (best / 1000) / 1e9;
}

/**
 * This process's own peak RSS: VmHWM belongs to the current address space, whereas getrusage's maxRSS (and
 * process.resourceUsage().maxRSS) keeps the parent's high-water mark across fork + exec on Linux.
 */
function peakRssBytes(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

interface MergeRun {
  readonly seconds: number;
  readonly maxRssBytes: number;
}

/** Child process: one modelevo merge, prints {seconds, maxRssBytes}. */
async function child(): Promise<void> {
  const [method, familyDir, out, kernels] = process.argv.slice(process.argv.indexOf('--child') + 1) as [string, string, string, string];
  const names = ['base', 'ft-1', 'ft-2', 'ft-3'].map((n) => join(familyDir, n));
  const config =
    method === 'linear'
      ? { merge_method: 'linear', models: names.map((model) => ({ model, parameters: { weight: 0.25 } })), dtype: 'bfloat16' }
      : {
          merge_method: 'ties',
          base_model: names[0],
          models: names.slice(1).map((model) => ({ model, parameters: { weight: 1, density: 0.2 } })),
          dtype: 'bfloat16',
        };
  const started = performance.now();
  const result = await runMerge(config, out, { progress: 'none', kernels: kernels as 'wasm' | 'reference', threads: 2, copyTokenizer: false });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, maxRssBytes: peakRssBytes(), kernels: result.kernels })}\n`);
}

function runChild(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): MergeRun {
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  const parsed = JSON.parse(result.stdout.trim().split('\n').pop()!) as { seconds: number; maxRssBytes?: number; max_rss_bytes?: number };
  return { seconds: parsed.seconds, maxRssBytes: parsed.maxRssBytes ?? parsed.max_rss_bytes ?? 0 };
}

async function main(): Promise<void> {
  const layers = Number(argValue('--layers') ?? 22);
  const skipTorch = process.argv.includes('--skip-torch');
  const withReference = process.argv.includes('--reference');
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-bench-merge-'));
  const outRoot = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/modelevo-bench-out-') : mkdtempSync(join(tmpdir(), 'modelevo-bench-out-'));
  try {
    console.log(`load before: ${execFileSync('uptime').toString().trim()}`);
    let started = performance.now();
    const folders = writeFamily(dir, layers);
    const modelBytes = folderBytes(folders[0]!);
    const inputBytes = 4 * modelBytes;
    const largestTensor = VOCAB * HIDDEN * 2;
    console.log(`wrote 4 models × ${(modelBytes / 1e9).toFixed(2)} GB in ${((performance.now() - started) / 1000).toFixed(1)} s (${dir})`);
    for (const folder of folders) catSeconds(folder); // warm the page cache
    const catGBs = modelBytes / Math.min(catSeconds(folders[1]!), catSeconds(folders[1]!)) / 1e9;
    const setGBs = setBandwidth();
    const copyGBs = Math.min(catGBs, setGBs);
    console.log(`copy bandwidth: cat model > /dev/null ${catGBs.toFixed(2)} GB/s; TypedArray.set (1 GiB, bytes copied/s) ${setGBs.toFixed(2)} GB/s`);

    const rows: { label: string; run: MergeRun }[] = [];
    const self = ['--import', 'tsx', new URL(import.meta.url).pathname];
    for (const method of ['linear', 'ties'] as const) {
      const kinds = withReference ? (['wasm', 'reference'] as const) : (['wasm'] as const);
      for (const kernels of kinds) {
        const out = join(outRoot, `${method}-${kernels}`);
        rows.push({ label: `modelevo ${method} (${kernels})`, run: runChild(process.execPath, [...self, '--child', method, dir, out, kernels]) });
        rmSync(out, { recursive: true, force: true });
      }
      if (!skipTorch) {
        const out = join(outRoot, `${method}-torch`);
        const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' };
        const script = new URL('./merge_torch.py', import.meta.url).pathname;
        const args = [script, '--method', method, '--base', folders[0]!, '--models', ...folders.slice(1), '--out', out, '--threads', '2'];
        rows.push({ label: `PyTorch ${method}`, run: runChild('/usr/bin/python3', args, env) });
        rmSync(out, { recursive: true, force: true });
      }
    }

    const torchOf = (method: string): MergeRun | undefined => rows.find((r) => r.label === `PyTorch ${method}`)?.run;
    console.log(`\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; input ${(inputBytes / 1e9).toFixed(2)} GB per merge; largest tensor ${(largestTensor / 1e6).toFixed(0)} MB; RSS bound 3 × largest × 4 inputs = ${((3 * largestTensor * 4) / 1e9).toFixed(2)} GB`);
    console.log('| merge | seconds | GB/s of input | vs copy bandwidth | vs PyTorch | peak RSS | RSS / (largest × inputs) |');
    console.log('|---|---|---|---|---|---|---|');
    for (const { label, run } of rows) {
      const gbs = inputBytes / run.seconds / 1e9;
      const method = label.includes('linear') ? 'linear' : 'ties';
      const torch = torchOf(method);
      const vsTorch = torch && !label.startsWith('PyTorch') ? `${(torch.seconds / run.seconds).toFixed(1)}× faster` : '–';
      console.log(
        `| ${label} | ${run.seconds.toFixed(2)} | ${gbs.toFixed(2)} | ${(copyGBs / gbs).toFixed(2)}× slower | ${vsTorch} | ${(run.maxRssBytes / 1e9).toFixed(2)} GB | ${(run.maxRssBytes / (largestTensor * 4)).toFixed(2)} |`,
      );
    }
    console.log(`\ncopy bandwidth = min(cat, TypedArray.set) = ${copyGBs.toFixed(2)} GB/s; load after: ${execFileSync('uptime').toString().trim()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outRoot, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) await child();
else await main();
