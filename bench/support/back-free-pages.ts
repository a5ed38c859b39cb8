/**
 * Backing the VM's free pages before a timed run. On this machine (a paravirtualised VM) the host takes back guest
 * pages that stay free for a while, and the next first write to such a page costs far more than on bare metal:
 * writing 1 GiB to a new tmpfs file cost 1.56 CPU-s in a minute after the pages had sat free and 0.20 CPU-s right
 * after another 1 GiB had been written and deleted (2026-12-07). A merge writes ~2 GB of new output pages, so the
 * same merge took 9.6 s or 6.7 s depending on what ran before it. Writing and deleting `gib` GiB in /dev/shm just
 * before each timed run hands every run (ours, the I/O floor, PyTorch) freshly backed pages, as on bare metal.
 */
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';

const CHUNK = 64 << 20;

export function backFreePages(gib: number): void {
  if (gib <= 0 || !existsSync('/dev/shm')) return;
  const path = `/dev/shm/modelevo-bench-back-${process.pid}`;
  const chunk = new Uint8Array(CHUNK).fill(1);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < gib * 2 ** 30; written += CHUNK) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}
