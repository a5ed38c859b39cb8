/**
 * Every command's --help (item 8 of issue #21): ends with at least one example, never says "(default)" twice
 * for one option, and the overwrite flag is spelled --overwrite wherever a command replaces an output folder.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { runCli } from '../../test/support/cli.js';
import { buildProgram } from './main.js';

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [path, ...commandPaths(sub, path)];
  });
}

const paths = commandPaths(buildProgram());

test('the program has its verbs and their sub-commands', () => {
  const names = paths.map((p) => p.join(' '));
  for (const verb of ['inspect', 'merge', 'kinship', 'eval', 'evolve', 'runs list', 'runs show', 'demo', 'extract-lora', 'compose-lora', 'anomaly evolve', 'anomaly score', 'continual run', 'st train', 'ui']) {
    assert.ok(names.includes(verb), verb);
  }
});

for (const path of paths) {
  test(`modelevo ${path.join(' ')} --help has an example and no doubled default`, async () => {
    const { code, stdout } = await runCli([...path, '--help']);
    assert.equal(code, 0);
    const examples = stdout.split('\nExamples:\n')[1];
    assert.ok(examples !== undefined, `no Examples: section in\n${stdout}`);
    const first = examples.split('\n')[0]!.trim();
    assert.match(first, /^modelevo \S/, 'an example starts with the command');
    assert.doesNotMatch(stdout, /\(default[^)]*\)\s+\(default/, 'one default note per option');
    assert.doesNotMatch(stdout, /--allow-overwrite|--force\b/, 'one spelling: --overwrite');
  });
}

test('merge: --allow-overwrite still works as a hidden alias of --overwrite', () => {
  const merge = buildProgram().commands.find((c) => c.name() === 'merge')!;
  const flags = merge.options.map((o) => o.long);
  assert.ok(flags.includes('--overwrite') && flags.includes('--allow-overwrite'));
  assert.equal(merge.options.find((o) => o.long === '--allow-overwrite')!.hidden, true);
});
