/** Shared parsing of numeric CLI flags: one message shape for every command. */
import { ConfigError } from '../core/errors.js';
import { dirname, resolve } from 'node:path';

/** An integer flag value ≥ `min`; otherwise a ConfigError naming the flag with an example. */
export function parseIntegerFlag(text: string, flag: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError([{ path: [flag], message: `expected an integer ≥ ${min}; got '${text}'` }], {
      hint: `e.g. ${flag} ${Math.max(min, 1)}`,
    });
  }
  return value;
}

/** The "Examples:" block every command's --help ends with (`.addHelpText('after', examplesHelp([...]))`). */
export function examplesHelp(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

/** The line run commands print at their start: how to follow the run in the dashboard (`modelevo ui`). */
export function watchLiveLine(runDir: string): string {
  return `watch it live: modelevo ui --runs ${dirname(resolve(runDir))}`;
}
