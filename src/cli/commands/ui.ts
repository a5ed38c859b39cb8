/**
 * `modelevo ui [--runs <dir>...] [--host 127.0.0.1] [--port 7860] [--open]`: the live, read-only dashboard
 * over the runs stored under the given folders (src/ui/server.ts). Binds to 127.0.0.1 unless --host says
 * otherwise, and then warns that the runs are visible to the network.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { examplesHelp, parseIntegerFlag } from '../options.js';
import { createUiServer, isLoopback } from '../../ui/server.js';

export const DEFAULT_UI_ROOTS = ['runs', 'out/demo'];
export const DEFAULT_UI_PORT = 7860;

export interface UiCommandOptions {
  readonly runs?: string[];
  readonly host?: string;
  readonly port?: string;
  readonly open?: boolean;
}

/** Opens `url` in the desktop's browser (xdg-open / open / start); failure to do so is only reported. */
export function openInBrowser(url: string, warn: (line: string) => void): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => warn(`could not start a browser (${command}); open ${url} yourself`));
  child.unref();
}

/** Starts the server; resolves with its URL and a close function once it listens. */
export async function startUi(options: UiCommandOptions, write: (line: string) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const roots = (options.runs?.length ? options.runs : DEFAULT_UI_ROOTS).map((dir) => resolve(dir));
  const host = options.host ?? '127.0.0.1';
  const port = options.port === undefined ? DEFAULT_UI_PORT : parseIntegerFlag(options.port, '--port', 0);
  const app = createUiServer({ roots });
  await app.listen({ host, port });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}/`;
  if (!isLoopback(host)) write(`warning: listening on ${host}: the runs under ${roots.join(', ')} are visible to the network (read-only)`);
  write(`modelevo ui: ${url} (runs under ${roots.join(', ')}; Ctrl-C stops)`);
  return { url, close: () => app.close() };
}

export function registerUiCommand(program: Command): void {
  program
    .command('ui')
    .description('live read-only dashboard of the stored runs in a browser (evolve, anomaly, spatiotemporal)')
    .option('--runs <dir...>', 'folders holding run directories (default: ./runs and out/demo)')
    .option('--host <host>', 'address to bind (default 127.0.0.1: this machine only)')
    .option('--port <port>', `port (default ${DEFAULT_UI_PORT}; 0 picks a free one)`)
    .option('--open', 'open the page in the default browser')
    .addHelpText('after', examplesHelp(['modelevo ui', 'modelevo ui --runs runs out/demo/runs --port 8080 --open']))
    .action(async (options: UiCommandOptions) => {
      const { url } = await startUi(options, (line) => process.stderr.write(`${line}\n`));
      if (options.open) openInBrowser(url, (line) => process.stderr.write(`${line}\n`));
      // the server keeps the process alive until Ctrl-C
    });
}
