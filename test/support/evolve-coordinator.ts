/**
 * `modelevo evolve <cfg> --queue …` as its own process for the #20 coordinator-kill test, without loading the
 * whole CLI: the same `runEvolveCommand` the CLI calls. Prints the CLI's progress lines on stderr.
 *
 * usage: node --import tsx test/support/evolve-coordinator.ts <cfg> <runDir> <url> <queueName> <pollMs>
 */
import { runEvolveCommand } from '../../src/cli/commands/evolve.js';

const [config, runDir, queue, queueName, queuePollMs] = process.argv.slice(2);
await runEvolveCommand(config!, { runDir: runDir!, queue: queue!, queueName: queueName!, queuePollMs: queuePollMs! });
