// The strict header JSON parser against JSON.parse (the independent reference for plain JSON) and hand cases
// for the rules JSON.parse does not enforce: depth, duplicate keys at any level, number spelling kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonSyntaxError, parseStrictJson, type JsonNode } from './strict-json.js';

/** the plain JS value of a node (numbers through Number, as JSON.parse does) */
function plain(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object':
      return Object.fromEntries(node.entries.map((e) => [e.key, plain(e.value)]));
    case 'array':
      return node.items.map(plain);
    case 'number':
      return Number(node.raw);
    default:
      return node.value;
  }
}

function failure(text: string): JsonSyntaxError {
  try {
    parseStrictJson(text);
  } catch (error) {
    assert.ok(error instanceof JsonSyntaxError, `expected JsonSyntaxError, got ${String(error)}`);
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(text)}`);
}

test('values without duplicate keys parse to what JSON.parse gives (2,000 seeded cases)', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom('', ' ', '\n\t '), (value, space) => {
      const text = JSON.stringify(value, null, space.length > 1 ? 1 : undefined) + space;
      assert.deepEqual(plain(parseStrictJson(text)), JSON.parse(text));
    }),
    { numRuns: 2_000, seed: 99 },
  );
});

test('malformed JSON fails where JSON.parse fails, as a JsonSyntaxError', () => {
  for (const text of ['', '{', '{"a"}', '{"a":}', '{"a":1,}', '[1,]', '[01]', '[1.]', '[.5]', '["\\x"]', '["\u0001"]', '{"a":1} x', 'nul', '[+1]', '{a:1}']) {
    assert.throws(() => JSON.parse(text));
    failure(text);
  }
});

test('depth: 128 nested levels parse, 129 fail at the 129th bracket without recursing', () => {
  const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
  assert.equal(parseStrictJson(nested(128)).kind, 'array');
  const tooDeep = failure(nested(129));
  assert.equal(tooDeep.kind, 'depth');
  assert.equal(tooDeep.at, 128);
  // a million levels: still an immediate, typed failure (JSON.parse would need a deep stack)
  const huge = failure('{"a":' + '['.repeat(1_000_000));
  assert.equal(huge.kind, 'depth');
  assert.equal(huge.at, 5 + 127);
});

test('duplicate keys are refused at any level, compared after unescaping, with the index of the repeat', () => {
  const top = failure('{"a":1,"a":2}');
  assert.deepEqual([top.kind, top.at], ['duplicate', 7]);
  const inner = failure('{"t":{"dtype":"F32","dtype":"F16"}}');
  assert.deepEqual([inner.kind, inner.at], ['duplicate', 20]);
  assert.equal(failure('{"a":1,"\\u0061":2}').kind, 'duplicate');
  assert.equal(failure('[{"x":[{"k":1,"k":1}]}]').kind, 'duplicate');
  // the same key in sibling objects is not a duplicate
  assert.deepEqual(plain(parseStrictJson('{"x":{"k":1},"y":{"k":2}}')), { x: { k: 1 }, y: { k: 2 } });
});

test('numbers keep their spelling; lone surrogate escapes are refused as serde_json refuses them', () => {
  const node = parseStrictJson('[8.0, 4.096e3, -0, 7]');
  assert.ok(node.kind === 'array');
  assert.deepEqual(node.items.map((n) => (n.kind === 'number' ? n.raw : '?')), ['8.0', '4.096e3', '-0', '7']);
  assert.equal(failure('["\\ud800"]').kind, 'syntax');
  assert.equal(failure('["\\udc00x"]').kind, 'syntax');
  const pair = parseStrictJson('["\\ud83d\\ude00"]');
  assert.deepEqual(plain(pair), ['😀']);
});
