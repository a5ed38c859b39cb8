/**
 * What the bench drivers share: reading `--flag value` arguments, and running one measured workload in a child
 * process (so its peak RSS is its own) that prints one JSON line {seconds, maxRssBytes | max_rss_bytes,
 * cpuSeconds?, pcc?} last.
 */
import { spawnSync } from 'node:child_process';

export function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export interface ChildRun {
  readonly seconds: number;
  readonly maxRssBytes: number;
  /** CPU seconds (user + system, all threads) of the workload itself, when the child reports them */
  readonly cpuSeconds?: number;
  /** kinship children report the three off-diagonal PCCs */
  readonly pcc?: readonly number[];
}

export function runChild(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildRun {
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  const parsed = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
    seconds: number;
    maxRssBytes?: number;
    max_rss_bytes?: number;
    cpuSeconds?: number;
    pcc?: number[];
  };
  return { seconds: parsed.seconds, maxRssBytes: parsed.maxRssBytes ?? parsed.max_rss_bytes ?? 0, cpuSeconds: parsed.cpuSeconds, pcc: parsed.pcc };
}
