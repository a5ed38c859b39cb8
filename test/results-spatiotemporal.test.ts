import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PARTS, partsToRerun } from '../scripts/results-spatiotemporal.js';

test('results:spatiotemporal --rerun: part names, all, repeats; an unknown part lists the valid ones', () => {
  assert.deepEqual([...PARTS], ['gwn', 'synevo', 'coms2t']);
  assert.deepEqual([...partsToRerun([])], []);
  assert.deepEqual([...partsToRerun(['all'])].sort(), ['coms2t', 'gwn', 'synevo']);
  assert.deepEqual([...partsToRerun(['coms2t', 'gwn', 'gwn'])].sort(), ['coms2t', 'gwn']);
  assert.throws(() => partsToRerun(['gwm']), /unknown part 'gwm'; expected one of gwn, synevo, coms2t, all/);
});
