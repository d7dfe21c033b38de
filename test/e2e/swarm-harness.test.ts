/**
 * The Swarm harness itself (support/swarm.ts, engine/swarm.sh; GitHub issue #17), on a stack
 * written here, not a generated one: two nodes (the private dockerd as manager, a second dockerd in
 * its own network namespace as worker), Redis pinned to the manager by its label, two clients
 * spread over both nodes reaching it over an internal overlay network (dnsrr: no IPVS here); then
 * the worker's engine stops, and Swarm moves its client to the manager. Leaves no swarm behind.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../../verify/engine.js';
import { enginePrerequisite, phaseTimer, removeTemporaryDirectories, stackDirectory } from './support/stacks.js';
import {
  deployStack,
  nodeList,
  releaseSwarm,
  removeStack,
  serviceTasks,
  stackImages,
  startWorker,
  stopWorkerEngine,
  waitConverged,
  workerEnv,
  WORKER_HOSTNAME,
  useSwarm,
  type ServiceTask,
} from './support/swarm.js';

const enabled = enginePrerequisite('docker');
const STACK = 'e2e-swarm-harness';

const STACK_FILE = `version: "3.8"
services:
  redis:
    image: redis:7.4.11-bookworm
    command: ["redis-server", "--save", "", "--appendonly", "no"]
    volumes: [redis-data:/data]
    networks: [back]
    stop_grace_period: 2s
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 2s
      timeout: 2s
      retries: 3
    deploy:
      endpoint_mode: dnsrr
      placement:
        constraints: ["node.labels.secure-stack.data == true"]
      restart_policy: {condition: any, delay: 1s}
  client:
    image: redis:7.4.11-bookworm
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do redis-cli -h redis ping; sleep 1 & wait $$!; done"]
    networks: [back]
    stop_grace_period: 2s
    healthcheck:
      test: ["CMD-SHELL", "redis-cli -h redis ping | grep -qx PONG"]
      interval: 2s
      timeout: 2s
      retries: 3
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      restart_policy: {condition: any, delay: 1s}
networks:
  back:
    driver: overlay
    internal: true
volumes:
  redis-data:
`;

const running = (tasks: ServiceTask[]) =>
  tasks.filter((task) => task.desiredState === 'running' && task.state === 'running');

describe.runIf(enabled)('e2e: the Docker Swarm harness (two nodes, dnsrr, a node failure)', () => {
  let directory = '';
  let deployed = false;
  const timings: string[] = [];
  const timed = phaseTimer('swarm', timings, 28);

  beforeAll(async () => {
    directory = stackDirectory('swarm-harness');
    writeFileSync(join(directory, 'stack.yaml'), STACK_FILE);
    await timed('init', () => useSwarm());
    await timed('worker start (images, join)', () => startWorker(stackImages(directory)));
  }, 300_000);

  afterAll(async () => {
    try {
      if (deployed) await timed('stack rm', () => removeStack(STACK));
    } finally {
      await timed('leave (manager, worker)', () => releaseSwarm());
      removeTemporaryDirectories();
      console.log(`[e2e swarm] timings\n${timings.join('\n')}`);
    }
  }, 300_000);

  it("runs Redis on the data node and a client on each node, which reach it across the overlay network; a failed node's task moves", async () => {
    const nodes = await nodeList();
    const manager = nodes.find((node) => node.role === 'manager');
    expect(nodes.map((node) => `${node.hostname} ${node.role} ${node.state}`).sort()).toEqual(
      [`${manager?.hostname} manager ready`, `${WORKER_HOSTNAME} worker ready`].sort(),
    );
    expect(manager?.labels['secure-stack.data']).toBe('true');

    deployed = true;
    await timed('deploy', () => deployStack(directory, STACK));
    await timed('converge', () => waitConverged(STACK, { timeoutMs: 60_000 }));
    expect(running(await serviceTasks(STACK, 'redis')).map((task) => task.node)).toEqual([manager?.hostname]);
    const clients = running(await serviceTasks(STACK, 'client'));
    expect(clients.map((task) => task.node).sort()).toEqual([manager?.hostname, WORKER_HOSTNAME].sort());

    // The worker's client, asked on the worker's own engine: Redis answers from the manager.
    const remote = clients.find((task) => task.node === WORKER_HOSTNAME);
    const ping = await runProcess(
      '/usr/bin/docker',
      ['exec', remote?.containerId ?? '', 'redis-cli', '-h', 'redis', 'ping'],
      { env: workerEnv(), timeoutMs: 20_000 },
    );
    expect(`${ping.code} ${ping.stdout.trim()}`, ping.stderr).toBe('0 PONG');

    // A node failure: the worker's engine stops without leaving. Swarm marks it down after its
    // heartbeat (2 s, swarm.sh init) runs out, and starts its task on the manager.
    await timed('worker engine stop', () => stopWorkerEngine());
    await timed('worker node down', async () => {
      const deadline = Date.now() + 30_000;
      while ((await nodeList()).find((node) => node.hostname === WORKER_HOSTNAME)?.state !== 'down') {
        if (Date.now() > deadline) throw new Error(`${WORKER_HOSTNAME} not down within 30 s of its engine stopping`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    });
    await timed('rescheduled and converged', () => waitConverged(STACK, { timeoutMs: 60_000 }));
    expect(running(await serviceTasks(STACK, 'client')).map((task) => task.node)).toEqual([
      manager?.hostname,
      manager?.hostname,
    ]);
  }, 240_000);
});
