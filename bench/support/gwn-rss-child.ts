/** Child of bench:nn-train's GWN rows: warm-up + timed engine training steps, then {seconds, maxRssBytes}. */
import { compileBenchModel, type GwnBenchPlan } from './gwn-engine-bench.js';

const plan = JSON.parse(process.argv[2]!) as GwnBenchPlan;
const started = performance.now();
const { trainer, x, labels } = compileBenchModel(plan);
for (let i = 0; i < plan.warmup + plan.steps; i++) trainer.step(x, labels);
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
