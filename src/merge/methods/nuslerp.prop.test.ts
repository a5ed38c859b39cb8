import { test } from 'node:test';
import fc from 'fast-check';
import { assertCloseToReference, makeMergeInput } from '../test-support.js';
import { nuslerp } from './nuslerp.js';

const finite = fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true });
const weight = fc.double({ min: 0.05, max: 5, noNaN: true });

test('property: nuslerp is symmetric under swapping the models together with their weights', () => {
  const shaped = fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }))
    .chain(([rows, cols]) => {
      const tensor = fc.array(finite, { minLength: rows * cols, maxLength: rows * cols });
      return fc.record({ shape: fc.constant([rows, cols]), a: tensor, b: tensor, base: tensor });
    });
  fc.assert(
    fc.property(shaped, weight, weight, fc.boolean(), fc.boolean(), (c, w1, w2, flatten, rowWise) => {
      const params = { nuslerp_flatten: flatten, nuslerp_row_wise: rowWise };
      const merge = (models: number[][], weights: number[]) =>
        nuslerp.mergeTensor(makeMergeInput(nuslerp, { base: c.base, models, shape: c.shape, params, modelParams: weights.map((w) => ({ weight: w })) }));
      // outputs that cancel to ~0 are judged against the inputs' float32 rounding level
      const inputScale = Math.max(...[...c.a, ...c.b, ...c.base].map(Math.abs));
      assertCloseToReference(merge([c.b, c.a], [w2, w1]), merge([c.a, c.b], [w1, w2]), 1e-5, 'swapped', 1e-6 * inputScale);
    }),
  );
});
