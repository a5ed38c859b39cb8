/**
 * The exit-status table (README "Exit codes", src/core/exit-codes.ts) over ordinary mistakes a new user makes:
 * each case asserts the status, the error code, a one-line message on stderr, a hint, no stack trace without
 * --debug, and with --json exactly one `{"error": {code, message, hint, path?}}` object on stdout.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.js';
import { FIXTURES } from './merge/workspace.js';
import { EXIT_STATUS, exitStatusFor } from '../src/core/exit-codes.js';
import { ModelevoError } from '../src/core/errors.js';
import { describeError } from '../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'modelevo-exit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const base = join(FIXTURES, 'base');
const code = join(FIXTURES, 'expert-code');
const linear = (models: string[]) => `merge_method: linear\nmodels:\n${models.map((m) => `  - model: ${m}\n    parameters: {weight: 1}`).join('\n')}\n`;

// a model folder whose weights file is cut short: its header promises more bytes than the file holds
const truncated = join(dir, 'truncated-model');
mkdirSync(truncated);
copyFileSync(join(base, 'config.json'), join(truncated, 'config.json'));
writeFileSync(join(truncated, 'model.safetensors'), readFileSync(join(base, 'model.safetensors')).subarray(0, 4096));
const busyOut = join(dir, 'busy-out');
mkdirSync(busyOut);
writeFileSync(join(busyOut, 'keep.txt'), 'not empty');
const notAFolder = file('plain-file', 'x');

interface Mistake {
  readonly what: string;
  readonly argv: string[];
  readonly status: number;
  readonly code: string;
  readonly message: RegExp;
}

const MISTAKES: readonly Mistake[] = [
  { what: 'config file does not exist', argv: ['merge', join(dir, 'nope.yml'), join(dir, 'o1')], status: 2, code: 'CONFIG_NOT_FOUND', message: /nope\.yml' does not exist/ },
  { what: 'unknown flag', argv: ['merge', 'a.yml', 'out', '--frobnicate'], status: 2, code: 'USAGE', message: /unknown option '--frobnicate'/ },
  { what: 'misspelt merge method', argv: ['merge', file('m3.yml', linear([code]).replace('linear', 'lineer')), join(dir, 'o3')], status: 2, code: 'UNKNOWN_NAME', message: /unknown merge method 'lineer'/ },
  { what: 'misspelt key', argv: ['merge', file('m4.yml', `merge_method: linear\nmodel:\n  - model: ${code}\n`), join(dir, 'o4')], status: 2, code: 'CONFIG_INVALID', message: /unknown key 'model'/ },
  { what: 'broken YAML', argv: ['merge', file('m5.yml', 'merge_method: linear\nmodels: [\n'), join(dir, 'o5')], status: 2, code: 'CONFIG_INVALID', message: /not valid YAML/ },
  { what: 'a mergekit-moe config', argv: ['merge', file('m6.yml', `base_model: ${base}\ngate_mode: hidden\nexperts:\n  - source_model: ${code}\n`), join(dir, 'o6')], status: 2, code: 'CONFIG_INVALID', message: /mergekit-moe/ },
  { what: 'a non-integer seed', argv: ['merge', file('m7.yml', linear([code])), join(dir, 'o7'), '--seed', 'abc'], status: 2, code: 'CONFIG_INVALID', message: /--seed/ },
  { what: 'model folder does not exist', argv: ['merge', file('m8.yml', linear([join(dir, 'no-such-model')])), join(dir, 'o8')], status: 3, code: 'CHECKPOINT_NOT_FOUND', message: /no-such-model' does not exist/ },
  { what: 'truncated weights file', argv: ['merge', file('m9.yml', linear([truncated])), join(dir, 'o9')], status: 3, code: 'CHECKPOINT_INVALID', message: /truncated-model|model\.safetensors/ },
  { what: 'inspect a folder with no weights', argv: ['inspect', dir], status: 3, code: 'CHECKPOINT_NOT_FOUND', message: /no model\.safetensors/ },
  { what: 'output folder exists and is not empty', argv: ['merge', file('m11.yml', linear([code])), busyOut], status: 4, code: 'IO_FAILED', message: /already exists and is not empty/ },
  { what: 'output below a plain file', argv: ['merge', file('m12.yml', linear([code])), join(notAFolder, 'out')], status: 4, code: 'IO_FAILED', message: /plain-file/ },
];

for (const mistake of MISTAKES) {
  test(`exit ${mistake.status}: ${mistake.what}`, async () => {
    const plain = await runCli(mistake.argv);
    assert.equal(plain.code, mistake.status, plain.stderr);
    const lines = plain.stderr.trim().split('\n');
    if (mistake.code === 'USAGE') {
      assert.match(lines[0]!, /^error: /); // commander's own one-line message
    } else {
      assert.match(lines[0]!, new RegExp(`^error \\[${mistake.code}\\]: `), plain.stderr);
      assert.match(lines[0]!, mistake.message);
      assert.equal(lines.length, 2, `one message line and one hint line:\n${plain.stderr}`);
      assert.match(lines[1]!, /^hint: \S/);
    }
    assert.doesNotMatch(plain.stderr, /^\s+at /m, 'no stack trace without --debug');
    assert.doesNotMatch(plain.stderr, /bug in modelevo/);

    const json = await runCli([...mistake.argv, '--json']);
    assert.equal(json.code, mistake.status);
    const out = json.stdout.trim().split('\n');
    assert.equal(out.length, 1, json.stdout);
    const parsed = JSON.parse(out[0]!) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(parsed), ['error']);
    assert.equal(parsed.error['code'], mistake.code);
    assert.match(String(parsed.error['message']), mistake.message);
    assert.equal(typeof parsed.error['hint'], 'string');
    for (const key of Object.keys(parsed.error)) assert.ok(['code', 'message', 'hint', 'path'].includes(key), key);
  });
}

test('--debug adds the stack trace', async () => {
  const { code: status, stderr } = await runCli(MISTAKES[2]!.argv.concat('--debug'));
  assert.equal(status, 2);
  assert.match(stderr, /^\s+at /m);
});

test('--json error path names the offending key of a config error', async () => {
  const { stdout } = await runCli([...MISTAKES[3]!.argv, '--json']);
  assert.equal((JSON.parse(stdout) as { error: { path: string } }).error.path, 'model');
});

test('status table: INTERNAL and non-modelevo exceptions are bugs (70); unlisted codes fall back by class and cause', () => {
  assert.equal(exitStatusFor(new TypeError('x is undefined')), EXIT_STATUS.internal);
  assert.equal(exitStatusFor(new ModelevoError('INTERNAL', 'invariant')), 70);
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  assert.equal(exitStatusFor(enospc), EXIT_STATUS.io);
  // a code another area may add later, not in the table: an I/O cause makes it 4, otherwise input data (3)
  const unlisted = (cause?: unknown) => new ModelevoError('SOME_NEW_CODE' as never, 'new', cause === undefined ? {} : { cause });
  assert.equal(exitStatusFor(unlisted(enospc)), 4);
  assert.equal(exitStatusFor(unlisted()), 3);
  assert.equal(describeError(new TypeError('boom')).code, 'INTERNAL');
  assert.match(describeError(new TypeError('boom')).hint!, /bug in modelevo/);
});
