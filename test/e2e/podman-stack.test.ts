/**
 * End to end on podman: one stack, booted by the project's own runner (support/podman.ts says why
 * no packaged Compose client can), proves that `secure-stack verify --engine podman` passes on a
 * correct stack and that the self-test's breakages fail its checks on podman too. Docker Engine
 * with docker-compose (stacks.test.ts) proves everything else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podmanEnv } from './runner/runner.js';
import { PodmanRunnerDriver } from './support/podman.js';
import { selfTestProblems } from './support/self-test.js';
import {
  enginePrerequisite,
  EXAMPLE_ANSWERS,
  expectAllPassed,
  generateStack,
  phaseTimer,
  removeTemporaryDirectories,
  stackDirectory,
  verifyCommand,
  verifyStack,
} from './support/stacks.js';

const enabled = enginePrerequisite('podman');
const driver = new PodmanRunnerDriver();

describe.runIf(enabled)('e2e: one generated stack on podman, booted by the e2e runner', () => {
  let directory = '';
  const timings: string[] = [];
  const timed = phaseTimer('podman', timings);

  beforeAll(async () => {
    directory = stackDirectory('podman');
    generateStack(directory, ['--answers', EXAMPLE_ANSWERS, '--project-name', 'e2e-podman', '--http-port', '18091']);
    await timed('boot (up to all healthy)', () => driver.up(directory));
  }, 600_000);

  afterAll(async () => {
    if (directory) await timed('down', () => driver.down(directory));
    removeTemporaryDirectories();
    console.log(`[e2e podman] timings\n${timings.join('\n')}`);
  }, 300_000);

  it('`secure-stack verify --engine podman` passes checks 1-5, and check 6 through the runner', async () => {
    const { code, printed } = await timed('verify command (1-5)', () =>
      verifyCommand(['--engine', 'podman'], directory, podmanEnv()),
    );
    expect(printed, printed).toMatch(
      /on podman[\s\S]*PASS {2}3 isolation {2}postgres cannot connect to nginx[\s\S]* passed, 0 failed/,
    );
    expect(code, printed).toBe(0);
    // podman-compose cannot recreate here (see support/podman.ts): the runner does, as for the self-test.
    expectAllPassed(await timed('check 6 (persistence)', () => verifyStack(driver, directory, ['persistence'])));
  }, 600_000);

  it('self-test: each deliberately broken stack is reported as failing on podman', async () => {
    const problems = await selfTestProblems(driver, directory, timed);
    expect(problems).toEqual([]);
  }, 900_000);
});
