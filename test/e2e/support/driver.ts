/**
 * How the e2e tests run a generated stack on one engine: Docker Engine through a real Compose
 * client (docker.ts), or podman through the project's own runner (podman.ts). The tests and the
 * self-test are written against this interface only.
 */
import type { Engine, EngineName } from '../../../verify/engine.js';

export interface RecreateOptions {
  /** Report a service that does not become healthy instead of throwing (the self-test's breakages). */
  tolerateUnhealthy?: boolean;
  /** How long to wait for it to become healthy. */
  healthDeadlineMs?: number;
}

export interface StackDriver {
  readonly engineName: EngineName;
  /** Which Compose client boots the stacks ("docker-compose 1.29.2", "the e2e runner"). */
  readonly client: string;
  engine(): Engine;
  /** Builds what the stack builds, once, before any stack boots. */
  build(directory: string): Promise<void>;
  /** Starts the stack and returns when every service is healthy. */
  up(directory: string): Promise<void>;
  /** Removes the stack's containers and networks, its volumes, and the images it built. */
  down(directory: string): Promise<void>;
  /** Recreates one service from the repository's current files, keeping its volumes. */
  recreate(directory: string, service: string, options?: RecreateOptions): Promise<void>;
}
