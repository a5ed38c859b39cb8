/**
 * Key-aware scan of a JSON object's top-level keys (formats.md §1.2 rule 4). JSON.parse keeps the last of
 * duplicate keys silently, so the safetensors header needs its own pass to reject duplicate tensor names.
 * The scan runs only on text JSON.parse already accepted, so it tracks just strings and nesting depth.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;

/** The first top-level key that occurs twice (compared after unescaping), or undefined. */
export function findDuplicateTopLevelKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectingKey = false;
  let i = 0;
  while (i < json.length) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      const end = endOfString(json, i);
      if (depth === 1 && expectingKey) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectingKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth === 1) expectingKey = true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if (c === COLON && depth === 1) {
      expectingKey = false;
    } else if (c === 0x2c && depth === 1) {
      expectingKey = true;
    }
    i++;
  }
  return undefined;
}

/** Index of the closing quote of the string that opens at `start`. */
function endOfString(json: string, start: number): number {
  let i = start + 1;
  while (i < json.length) {
    const c = json.charCodeAt(i);
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE) return i;
    else i++;
  }
  return json.length - 1;
}
