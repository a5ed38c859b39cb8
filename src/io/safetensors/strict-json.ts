/**
 * A strict, iterative JSON parser for safetensors headers (formats.md §1.2). `JSON.parse` recurses (a shape
 * nested 10,000 levels deep overflows the stack), silently keeps the last of duplicate keys and turns `8.0`
 * into 8, so the header gets its own parser that
 * - fails at the first bracket nested deeper than MAX_JSON_DEPTH (the reference implementation's serde_json
 *   recursion limit), without recursing and without building the rest of the tree;
 * - rejects a key repeated in any object (safetensors rejects repeated fields of a tensor entry; we also
 *   reject repeated tensor names and repeated `__metadata__` keys, a documented stricter rule);
 * - keeps each number's spelling, so integer fields can refuse `8.0`, `4.096e3` and `-0`;
 * - reports the character index of every failure, which the caller turns into a byte offset.
 * The grammar is RFC 8259; like serde_json, a `\u` escape that leaves a lone surrogate is an error.
 */

export const MAX_JSON_DEPTH = 128;

export type JsonNode = JsonObjectNode | JsonArrayNode | JsonStringNode | JsonNumberNode | JsonLiteralNode;

export interface JsonObjectNode {
  readonly kind: 'object';
  readonly at: number;
  /** in source order; keys are unique (duplicates are a parse error) */
  readonly entries: { readonly key: string; readonly keyAt: number; readonly value: JsonNode }[];
}
export interface JsonArrayNode {
  readonly kind: 'array';
  readonly at: number;
  readonly items: JsonNode[];
}
export interface JsonStringNode {
  readonly kind: 'string';
  readonly at: number;
  readonly value: string;
}
export interface JsonNumberNode {
  readonly kind: 'number';
  readonly at: number;
  /** the number as written, e.g. `8.0` or `-0` */
  readonly raw: string;
}
export interface JsonLiteralNode {
  readonly kind: 'literal';
  readonly at: number;
  readonly value: true | false | null;
}

export class JsonSyntaxError extends Error {
  /** character index in the parsed text */
  readonly at: number;
  readonly kind: 'syntax' | 'depth' | 'duplicate';
  /** for a duplicate key: the key and how deep its object is (1 = the top level) */
  readonly duplicate: { readonly key: string; readonly depth: number } | undefined;
  constructor(kind: 'syntax' | 'depth' | 'duplicate', message: string, at: number, duplicate?: { key: string; depth: number }) {
    super(message);
    this.kind = kind;
    this.at = at;
    this.duplicate = duplicate;
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

type Container =
  | { node: JsonObjectNode; keys: Set<string>; pendingKey?: { key: string; at: number } }
  | { node: JsonArrayNode };

/** Parses `text` as exactly one JSON value surrounded by optional JSON whitespace. */
export function parseStrictJson(text: string, maxDepth: number = MAX_JSON_DEPTH): JsonNode {
  let i = 0;
  const stack: Container[] = [];
  let root: JsonNode | undefined;

  const fail = (message: string, at: number = i): never => {
    throw new JsonSyntaxError('syntax', message, at);
  };
  const skipWhitespace = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const describe = (at: number): string => (at >= text.length ? 'the end of the header' : `'${text[at]}'`);

  /** attaches a finished value to the innermost container (or makes it the root) */
  const attach = (value: JsonNode): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) root = value;
    else if (top.node.kind === 'array') top.node.items.push(value);
    else {
      const object = top as Extract<Container, { keys: Set<string> }>;
      const pending = object.pendingKey!;
      object.node.entries.push({ key: pending.key, keyAt: pending.at, value });
      object.pendingKey = undefined;
    }
  };

  /** after a value inside a container: `,` or the closing bracket; returns false when the container closed */
  const afterValue = (): void => {
    for (;;) {
      skipWhitespace();
      const top = stack[stack.length - 1];
      if (top === undefined) return;
      const c = text[i];
      const close = top.node.kind === 'array' ? ']' : '}';
      if (c === ',') {
        i++;
        skipWhitespace();
        if (top.node.kind === 'object') readKey(top as Extract<Container, { keys: Set<string> }>);
        return;
      }
      if (c === close) {
        i++;
        stack.pop();
        attach(top.node);
        continue;
      }
      fail(`expected ',' or '${close}', found ${describe(i)}`);
    }
  };

  const readKey = (object: Extract<Container, { keys: Set<string> }>): void => {
    if (text[i] !== '"') fail(`expected a quoted key, found ${describe(i)}`);
    const at = i;
    const key = readString();
    if (object.keys.has(key)) throw new JsonSyntaxError('duplicate', `key ${JSON.stringify(key)} appears more than once in one object`, at, { key, depth: stack.length });
    object.keys.add(key);
    skipWhitespace();
    if (text[i] !== ':') fail(`expected ':' after a key, found ${describe(i)}`);
    i++;
    object.pendingKey = { key, at };
  };

  const readString = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail(`control character 0x${c.toString(16).padStart(2, '0')} inside a string`);
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u') {
          const unit = readHex(i + 2);
          i += 6;
          if (unit >= 0xd800 && unit <= 0xdbff) {
            if (text[i] !== '\\' || text[i + 1] !== 'u') fail('lone leading surrogate in a \\u escape', i - 6);
            const low = readHex(i + 2);
            if (low < 0xdc00 || low > 0xdfff) fail('lone leading surrogate in a \\u escape', i - 6);
            out += String.fromCharCode(unit, low);
            i += 6;
          } else if (unit >= 0xdc00 && unit <= 0xdfff) {
            fail('lone trailing surrogate in a \\u escape', i - 6);
          } else {
            out += String.fromCharCode(unit);
          }
        } else {
          fail(`invalid escape '\\${e ?? ''}'`);
        }
        start = i;
        continue;
      }
      i++;
    }
  };

  const readHex = (at: number): number => {
    const hex = text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('\\u must be followed by four hex digits', at);
    return parseInt(hex, 16);
  };

  const open = (node: JsonObjectNode | JsonArrayNode): void => {
    if (stack.length + 1 > maxDepth) {
      throw new JsonSyntaxError('depth', `nesting deeper than ${maxDepth} levels`, node.at);
    }
    i++;
    skipWhitespace();
    if (node.kind === 'array') {
      stack.push({ node });
      if (text[i] === ']') {
        i++;
        stack.pop();
        attach(node);
        afterValue();
      }
    } else {
      const container: Extract<Container, { keys: Set<string> }> = { node, keys: new Set() };
      stack.push(container);
      if (text[i] === '}') {
        i++;
        stack.pop();
        attach(node);
        afterValue();
      } else {
        readKey(container);
      }
    }
  };

  skipWhitespace();
  for (;;) {
    skipWhitespace();
    const at = i;
    const c = text[i];
    if (c === '{') open({ kind: 'object', at, entries: [] });
    else if (c === '[') open({ kind: 'array', at, items: [] });
    else {
      if (c === '"') attach({ kind: 'string', at, value: readString() });
      else if (c === 't' || c === 'f' || c === 'n') {
        const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
        if (text.slice(i, i + word.length) !== word) fail(`invalid literal starting with ${describe(i)}`);
        i += word.length;
        attach({ kind: 'literal', at, value: word === 'true' ? true : word === 'false' ? false : null });
      } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
        NUMBER.lastIndex = i;
        const match = NUMBER.exec(text);
        if (match === null) fail(`invalid number starting with ${describe(i)}`);
        i += match![0].length;
        attach({ kind: 'number', at, raw: match![0] });
      } else {
        fail(`expected a value, found ${describe(i)}`);
      }
      afterValue();
    }
    if (root !== undefined && stack.length === 0) break;
  }
  skipWhitespace();
  if (i < text.length) fail(`unexpected ${describe(i)} after the end of the header object`);
  return root!;
}
