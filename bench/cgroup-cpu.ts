/**
 * CPU time a container has used, read from its cgroup on the host: cgroup v1's cpuacct.usage
 * (nanoseconds) where the cpuacct controller is mounted, else cgroup v2's cpu.stat usage_usec.
 */
import { readFileSync } from 'node:fs';

/** A reader of the CPU seconds used so far by the cgroup of process `pid` (a container's init). */
export function cpuSecondsReader(pid: number): () => number {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  // v1 lines read "4:cpu,cpuacct:/path" (the controllers name the mount); v2 reads "0::/path".
  const v1 = lines
    .map((line) => line.split(':'))
    .find(([, controllers]) => controllers?.split(',').includes('cpuacct'));
  if (v1) {
    const file = `/sys/fs/cgroup/${v1[1]}${v1.slice(2).join(':')}/cpuacct.usage`;
    return () => Number(readFileSync(file, 'utf8')) / 1e9;
  }
  const v2 = lines.find((line) => line.startsWith('0::'));
  if (!v2) throw new Error(`no cpu accounting cgroup for process ${pid}`);
  const file = `/sys/fs/cgroup${v2.slice(3)}/cpu.stat`;
  return () => Number(/^usage_usec (\d+)$/m.exec(readFileSync(file, 'utf8'))?.[1]) / 1e6;
}
