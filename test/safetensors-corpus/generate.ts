/**
 * Generates corpus.json: safetensors headers with the verdict the format specification gives them
 * (docs formats.md §1.1–§1.2 and the safetensors README/serde rules: unsigned-integer fields, unknown entry
 * fields ignored, a repeated field of an entry refused, nesting limit 128). Each case is a valid header
 * with at most one deliberate change whose verdict follows from one named rule; nothing here calls the
 * modelevo reader. Run: node --import tsx test/safetensors-corpus/generate.ts (deterministic).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CorpusCase {
  readonly id: string;
  /** header JSON text (UTF-8), without the 8-byte length */
  readonly header: string;
  /** bytes of zeros after the header */
  readonly dataBytes: number;
  /** what the specification says */
  readonly verdict: 'accept' | 'reject';
  /** the rule that decides it */
  readonly rule: string;
  /** set where modelevo is documented to be stricter than the specification (it rejects) */
  readonly stricter?: string;
}

const BITS: Record<string, number> = { F64: 64, F32: 32, F16: 16, BF16: 16, I64: 64, I32: 32, I16: 16, I8: 8, U64: 64, U32: 32, U16: 16, U8: 8, BOOL: 8, F8_E5M2: 8, F8_E4M3: 8, F4: 4, C64: 64 };
const DTYPES = Object.keys(BITS).filter((d) => BITS[d]! % 8 === 0);

/** xorshift32: a fixed, seedable sequence so the corpus is reproducible */
let state = 0x2545f491;
function next(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
}
const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;

interface Tensor {
  name: string;
  dtype: string;
  shape: number[];
}

function randomTensors(): Tensor[] {
  const names = new Set<string>();
  const out: Tensor[] = [];
  const n = int(0, 4);
  while (out.length < n) {
    const name = pick(['w', 'bias', 'model.layers.0.mlp.up_proj.weight', 'é', 'a b', 'x"y', 'k\\z', '0']) + (out.length ? `.${out.length}` : '');
    if (names.has(name)) continue;
    names.add(name);
    out.push({ name, dtype: pick(DTYPES), shape: Array.from({ length: int(0, 3) }, () => int(0, 5)) });
  }
  return out;
}

const bytesOf = (t: Tensor) => (t.shape.reduce((a, b) => a * b, 1) * BITS[t.dtype]!) / 8;

/** fields of each entry as raw JSON fragments, in data order */
function entriesOf(tensors: readonly Tensor[]): { name: string; fields: [string, string][] }[] {
  let offset = 0;
  return tensors.map((t) => {
    const begin = offset;
    offset += bytesOf(t);
    return { name: t.name, fields: [['dtype', JSON.stringify(t.dtype)], ['shape', JSON.stringify(t.shape)], ['data_offsets', `[${begin},${offset}]`]] };
  });
}

function text(entries: ReturnType<typeof entriesOf>, metadata?: string): string {
  const parts = entries.map((e) => `${JSON.stringify(e.name)}:{${e.fields.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
  if (metadata !== undefined) parts.unshift(`"__metadata__":${metadata}`);
  return `{${parts.join(',')}}`;
}

const total = (ts: readonly Tensor[]) => ts.reduce((s, t) => s + bytesOf(t), 0);

type Maker = () => Omit<CorpusCase, 'id'> | undefined;

/** one generator per rule; the verdict is fixed by the rule, not computed by any reader */
const MAKERS: Record<string, Maker> = {
  valid() {
    const ts = randomTensors();
    const md = pick([undefined, '{"format":"pt"}', '{}', 'null', '{"a":"b","c":"é"}']);
    return { header: text(entriesOf(ts), md) + ' '.repeat(int(0, 7)), dataBytes: total(ts), verdict: 'accept', rule: '§1.1 valid header (spaces may pad it)' };
  },
  unknownField() {
    const ts = randomTensors();
    if (!ts.length) return undefined;
    const es = entriesOf(ts);
    es[int(0, es.length - 1)]!.fields.push(['extra', pick(['1', '"x"', '[1,2]', '{"a":[]}', 'null', '1.5'])]);
    return { header: text(es), dataBytes: total(ts), verdict: 'accept', rule: 'unknown fields of an entry are ignored' };
  },
  nesting() {
    const ts = randomTensors();
    if (!ts.length) return undefined;
    const es = entriesOf(ts);
    const depth = pick([1, 50, 120, 125, 126, 127, 128, 129, 130, 500, 5000]);
    es[0]!.fields.push(['extra', '['.repeat(depth) + ']'.repeat(depth)]);
    // the header object and the entry object are 2 levels; the limit is 128 levels in all
    const levels = 2 + depth;
    return { header: text(es), dataBytes: total(ts), verdict: levels <= 128 ? 'accept' : 'reject', rule: `nesting depth ${levels} (limit 128)` };
  },
  badJson() {
    const ts = randomTensors();
    const t = text(entriesOf(ts), '{"format":"pt"}');
    const broken = pick([t.slice(0, -1), t.replace(/}$/, ',}'), t.replace(/"/g, "'"), t.replace('{', '{,'), `${t}x`, t.replace(':', ' '), `${t.slice(0, -1)},"n":NaN}`, `${t.slice(0, -1)},"n":[01]}`]);
    return { header: broken, dataBytes: total(ts), verdict: 'reject', rule: 'rule 3: not JSON' };
  },
  leadingSpace() {
    const ts = randomTensors();
    return { header: pick([' ', '\n', '\t']) + text(entriesOf(ts)), dataBytes: total(ts), verdict: 'reject', rule: "rule 3: first byte must be '{'" };
  },
  notObject() {
    return { header: pick(['{}'.replace('{}', '[]'), '"x"', '1', 'null']), dataBytes: 0, verdict: 'reject', rule: "rule 3: header is a JSON object starting with '{'" };
  },
  badDtype() {
    const ts = randomTensors();
    if (!ts.length) return undefined;
    const es = entriesOf(ts);
    es[0]!.fields[0] = ['dtype', pick(['"f32"', '"F12"', '""', '"Q4_0"', '32', 'null', '["F32"]'])];
    return { header: text(es), dataBytes: total(ts), verdict: 'reject', rule: 'rule 3: unknown dtype' };
  },
  badShape() {
    const ts = randomTensors();
    if (!ts.length) return undefined;
    const es = entriesOf(ts);
    es[0]!.fields[1] = ['shape', pick(['[-1]', '[1.5]', '["2"]', '[[2]]', '2', 'null', '[true]', '{"0":1}', '[18446744073709551616]'])];
    return { header: text(es), dataBytes: total(ts), verdict: 'reject', rule: 'rule 3: shape of non-negative integers' };
  },
  floatInteger() {
    const ts = randomTensors();
    if (!ts.length) return undefined;
    const es = entriesOf(ts);
    const t = ts[0]!;
    const end = bytesOf(t);
    const spell = (v: number) => pick([`${v}.0`, `${v}e0`, `${v}E+0`, `${v * 10}e-1`, v === 0 ? '-0' : `${v}.000`]);
    if (t.shape.length && next() < 0.5) {
      const shape = t.shape.map(String);
      shape[0] = spell(t.shape[0]!);
      es[0]!.fields[1] = ['shape', `[${shape.join(',')}]`];
    } else {
      es[0]!.fields[2] = ['data_offsets', next() < 0.5 ? `[${spell(0)},${end}]` : `[0,${spell(end)}]`];
    }
    return { header: text(es), dataBytes: total(ts), verdict: 'reject', rule: 'rule 3: integer fields are unsigned integers (no float spelling)' };
  },
  badOffsets() {
    const ts = randomTensors();
    if (!ts.length) return undefined;
    const es = entriesOf(ts);
    es[0]!.fields[2] = ['data_offsets', pick(['[0]', '[0,1,2]', '"0,1"', '[null,0]', '[-1,0]', '{}'])];
    return { header: text(es), dataBytes: total(ts), verdict: 'reject', rule: 'rule 3: data_offsets are two integers' };
  },
  missingField() {
    const ts = randomTensors();
    if (!ts.length) return undefined;
    const es = entriesOf(ts);
    es[0]!.fields.splice(int(0, 2), 1);
    return { header: text(es), dataBytes: total(ts), verdict: 'reject', rule: 'rule 3: dtype, shape and data_offsets are required' };
  },
  repeatedField() {
    const ts = randomTensors();
    if (!ts.length) return undefined;
    const es = entriesOf(ts);
    const e = es[int(0, es.length - 1)]!;
    e.fields.push(e.fields[int(0, 2)]!);
    return { header: text(es), dataBytes: total(ts), verdict: 'reject', rule: 'a field repeated inside one entry' };
  },
  duplicateTensor() {
    const ts = randomTensors();
    if (!ts.length) return undefined;
    const es = entriesOf(ts);
    const zero: Tensor = { name: ts[0]!.name, dtype: 'U8', shape: [0] };
    es.push({ name: zero.name, fields: [['dtype', '"U8"'], ['shape', '[0]'], ['data_offsets', `[${total(ts)},${total(ts)}]`]] });
    return { header: text(es), dataBytes: total(ts), verdict: 'reject', rule: 'rule 4: duplicate tensor names' };
  },
  duplicateMetadataKey() {
    const ts = randomTensors();
    return {
      header: text(entriesOf(ts), '{"format":"pt","format":"pt"}'),
      dataBytes: total(ts),
      verdict: 'accept',
      rule: '__metadata__ is a string map; the specification does not forbid a repeated key',
      stricter: 'modelevo refuses repeated keys at every level',
    };
  },
  metadataType() {
    const ts = randomTensors();
    return { header: text(entriesOf(ts), pick(['1', '"pt"', '[]', 'true', '{"a":1}', '{"a":null}', '{"a":["b"]}', '{"a":{}}'])), dataBytes: total(ts), verdict: 'reject', rule: 'rule 3: __metadata__ maps strings to strings' };
  },
  hole() {
    const ts = randomTensors().filter((t) => bytesOf(t) > 0);
    if (!ts.length) return undefined;
    const es = entriesOf(ts);
    const shift = int(1, 3);
    const last = es[es.length - 1]!;
    const [b, e] = JSON.parse(last.fields[2]![1]) as [number, number];
    last.fields[2] = ['data_offsets', `[${b + shift},${e + shift}]`];
    return { header: text(es), dataBytes: total(ts) + shift, verdict: 'reject', rule: 'rule 5: no holes' };
  },
  overlap() {
    const ts = randomTensors().filter((t) => bytesOf(t) > 0);
    if (ts.length < 2) return undefined;
    const es = entriesOf(ts);
    const last = es[es.length - 1]!;
    const [b, e] = JSON.parse(last.fields[2]![1]) as [number, number];
    last.fields[2] = ['data_offsets', `[${b - 1},${e - 1}]`];
    return { header: text(es), dataBytes: total(ts) - 1, verdict: 'reject', rule: 'rule 5: no overlaps' };
  },
  wrongByteCount() {
    const ts = randomTensors();
    if (!ts.length) return undefined;
    const t = ts[ts.length - 1]!;
    t.shape = [...t.shape, 2];
    const es = entriesOf(ts);
    const extra = int(1, 4);
    const last = es[es.length - 1]!;
    const [b, e] = JSON.parse(last.fields[2]![1]) as [number, number];
    if (e === b) return undefined;
    last.fields[2] = ['data_offsets', `[${b},${e + extra}]`];
    return { header: text(es), dataBytes: total(ts) + extra, verdict: 'reject', rule: 'rule 6: END − BEGIN = numel · bits / 8' };
  },
  subByte() {
    const n = int(1, 9);
    const ok = n % 2 === 0;
    return {
      header: `{"q":{"dtype":"F4","shape":[${n}],"data_offsets":[0,${Math.ceil(n / 2)}]}}`,
      dataBytes: Math.ceil(n / 2),
      verdict: ok ? 'accept' : 'reject',
      rule: `rule 6: ${n} F4 elements are ${4 * n} bits (must be whole bytes)`,
    };
  },
  trailingData() {
    const ts = randomTensors();
    return { header: text(entriesOf(ts)), dataBytes: total(ts) + int(1, 16), verdict: 'reject', rule: 'rule 7: no trailing data' };
  },
  shortData() {
    const ts = randomTensors().filter((t) => bytesOf(t) > 0);
    if (!ts.length) return undefined;
    return { header: text(entriesOf(ts)), dataBytes: total(ts) - 1, verdict: 'reject', rule: 'rule 7: data shorter than the header says' };
  },
};

export function generateCorpus(perRule = 28): CorpusCase[] {
  const out: CorpusCase[] = [];
  for (const [rule, make] of Object.entries(MAKERS)) {
    let made = 0;
    for (let attempt = 0; made < perRule && attempt < perRule * 20; attempt++) {
      const c = make();
      if (c === undefined) continue;
      out.push({ id: `${rule}-${made}`, ...c });
      made++;
    }
  }
  return out;
}

if (process.argv[1]?.endsWith('generate.ts')) {
  const corpus = generateCorpus();
  writeFileSync(join(import.meta.dirname, 'corpus.json'), `${JSON.stringify(corpus, null, 1)}\n`);
  console.log(`${corpus.length} cases written`);
}
