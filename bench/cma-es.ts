/**
 * bench:cma-es — f-evaluations to reach f < 1e-8 on 10-D sphere, ellipsoid (condition 1e6) and Rosenbrock,
 * median over 11 seeds, beside pycma 4.4.0's published figures (evolutionary-merging.md §6.5).
 */
import { cmaEs, type CmaEsParams } from '../src/evolve/strategies/cma-es.js';

type Fn = (x: readonly number[]) => number;
const functions: { name: string; fn: Fn; x0: number; sigma0: number; pycmaBasic: number; pycmaActive: number }[] = [
  { name: 'sphere', fn: (x) => x.reduce((a, v) => a + v * v, 0), x0: 1, sigma0: 1, pycmaBasic: 1300, pycmaActive: 1370 },
  {
    name: 'ellipsoid 1e6',
    fn: (x) => x.reduce((a, v, i) => a + 10 ** ((6 * i) / (x.length - 1)) * v * v, 0),
    x0: 1,
    sigma0: 1,
    pycmaBasic: 5520,
    pycmaActive: 4030,
  },
  {
    name: 'rosenbrock',
    fn: (x) => {
      let f = 0;
      for (let i = 0; i < x.length - 1; i++) f += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
      return f;
    },
    x0: 0,
    sigma0: 0.5,
    pycmaBasic: 5830,
    pycmaActive: 5080,
  },
];

console.log('| function (n = 10) | modelevo median evals (range) | reached | pycma basic | ratio | pycma active |');
console.log('|---|---|---|---|---|---|');
for (const f of functions) {
  const counts: number[] = [];
  let reached = 0;
  for (let seed = 1; seed <= 11; seed++) {
    const params: CmaEsParams = { objective: 'min', x0: new Array(10).fill(f.x0), sigma0: f.sigma0, targetFitness: 1e-8, maxEvaluations: 50000 };
    let state = cmaEs.init(params, seed);
    while (!cmaEs.stopReason(params, state)) {
      const asked = cmaEs.ask(params, state);
      state = cmaEs.tell(params, asked.state, asked.candidates, asked.candidates.map(f.fn)).state;
    }
    if (state.stop === 'target') reached++;
    counts.push(state.evaluations);
  }
  counts.sort((a, b) => a - b);
  const median = counts[5]!;
  console.log(
    `| ${f.name} | ${median} (${counts[0]}–${counts[10]}) | ${reached}/11 | ${f.pycmaBasic} | ${(median / f.pycmaBasic).toFixed(2)}× | ${f.pycmaActive} |`,
  );
}
