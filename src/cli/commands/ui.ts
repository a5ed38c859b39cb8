/**
 * `modelevo ui [--runs <dir>]... [--host 127.0.0.1] [--port 7860] [--open]`: the live, read-only dashboard
 * over the runs stored under the given folders (src/ui/server.ts). Binds to 127.0.0.1 unless --host says
 * otherwise, and then warns that the runs are visible to the network.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { parseWithSchema } from '../../core/schema.js';
import { examplesHelp } from '../options.js';
import { addSchemaOptions, flag } from '../schema-options.js';
import { createUiServer, isLoopback } from '../../ui/server.js';

export const DEFAULT_UI_ROOTS = ['runs', 'out/demo'];
export const DEFAULT_UI_PORT = 7860;

/** The command's options, one declaration per flag. */
export const UiOptionsSchema = z.object({
  runs: flag(z.array(z.string().min(1)).default(DEFAULT_UI_ROOTS), 'a folder holding run directories (repeat for more)', '<dir>'),
  host: flag(z.string().min(1).default('127.0.0.1'), 'address to bind (127.0.0.1: this machine only; another host is warned about)', '<host>'),
  port: flag(z.coerce.number().int().min(0).max(65535).default(DEFAULT_UI_PORT), 'port (0 picks a free one)', '<port>'),
  open: flag(z.boolean().default(false), 'open the page in the default browser'),
});
export type UiCommandOptions = z.input<typeof UiOptionsSchema>;

/** Opens `url` in the desktop's browser (xdg-open / open / start); failure to do so is only reported. */
export function openInBrowser(url: string, warn: (line: string) => void): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => warn(`could not start a browser (${command}); open ${url} yourself`));
  child.unref();
}

/** Starts the server; resolves with its URL and a close function once it listens. */
export async function startUi(raw: UiCommandOptions, write: (line: string) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const options = parseWithSchema(UiOptionsSchema, raw, 'modelevo ui options');
  const roots = options.runs.map((dir) => resolve(dir));
  const app = createUiServer({ roots });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/`;
  if (!isLoopback(options.host)) write(`warning: listening on ${options.host}: the runs under ${roots.join(', ')} are visible to the network (read-only)`);
  write(`modelevo ui: ${url} (runs under ${roots.join(', ')}; Ctrl-C stops)`);
  return { url, close: () => app.close() };
}

export function registerUiCommand(program: Command): void {
  const command = program
    .command('ui')
    .description('live read-only dashboard of the stored runs in a browser (evolve, anomaly, spatiotemporal)')
    .addHelpText('after', examplesHelp(['modelevo ui', 'modelevo ui --runs runs --runs out/demo/runs --port 8080 --open']));
  addSchemaOptions(command, UiOptionsSchema).action(async (flags: UiCommandOptions) => {
    const { url } = await startUi(flags, (line) => process.stderr.write(`${line}\n`));
    if (flags.open) openInBrowser(url, (line) => process.stderr.write(`${line}\n`));
    // the server keeps the process alive until Ctrl-C
  });
}
