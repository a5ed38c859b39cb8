/**
 * The synthetic Llama-shaped bf16 family of bench:merge and bench:kinship (TinyLlama shapes: hidden 2048,
 * intermediate 5632, KV 256, vocab 32000, untied lm_head; base + 3 fine-tunes of ~2.2 GB each at 22 layers),
 * written with our ModelFolderWriter in 1 GB shards, and the copy-bandwidth and RSS probes both benches print.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelFolderWriter } from '../../src/io/shard-writer.js';

export const HIDDEN = 2048;
export const INTERMEDIATE = 5632;
export const KV = 256;
export const VOCAB = 32000;


export function llamaSpecs(layers: number): { name: string; shape: number[] }[] {
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
export function bf16Pool(seed: number, sigma: number, size = 1 << 24): Uint16Array {
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

export function writeFamily(dir: string, layers: number): string[] {
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

export function folderBytes(folder: string): number {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((sum, f) => sum + Number(execFileSync('stat', ['-c', '%s', join(folder, f)]).toString().trim()), 0);
}

export function catSeconds(folder: string): number {
  const files = readdirSync(folder).filter((f) => f.endsWith('.safetensors')).map((f) => join(folder, f));
  const started = performance.now();
  execFileSync('sh', ['-c', `cat ${files.map((f) => `'${f}'`).join(' ')} > /dev/null`]);
  return (performance.now() - started) / 1000;
}

export function setBandwidth(): number {
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
export function peakRssBytes(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

