/**
 * podman for the e2e tests, through the project's own runner (runner/): podman 4.3 schedules
 * healthchecks with systemd timers, which this machine lacks, and Debian's podman-compose 1.0.3
 * does not wait for `condition: service_healthy`, so no packaged client can boot the stack here.
 * One stack proves `verify --engine podman` and the self-test on podman; Docker Engine with a real
 * Compose client (docker.ts) proves the rest.
 */
import type { Engine } from '../../../verify/engine.js';
import { down, podman, recreate, up } from '../runner/runner.js';
import type { RecreateOptions, StackDriver } from './driver.js';

export class PodmanRunnerDriver implements StackDriver {
  readonly engineName = 'podman';
  readonly client = 'the e2e runner (test/e2e/runner)';

  engine(): Engine {
    return podman();
  }

  async build(): Promise<void> {
    // The runner builds the backend image as it starts the stack.
  }

  async up(directory: string): Promise<void> {
    await up(directory);
  }

  async down(directory: string): Promise<void> {
    await down(directory, { volumes: true, images: true });
  }

  async recreate(directory: string, service: string, options: RecreateOptions = {}): Promise<void> {
    await recreate(directory, service, options);
  }
}
