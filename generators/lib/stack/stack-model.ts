/**
 * The whole model templates render: the stack as Compose runs it (model.ts) and, when the swarm
 * answer asks for it, the same stack as a Swarm target (swarm.ts), which is built from the first.
 */
import type { Answers } from '../answers/types.js';
import { buildComposeModel, type ComposeModel } from './model.js';
import { buildSwarmModel, type SwarmStackModel } from './swarm.js';

export type StackModel = ComposeModel & {
  /** The Docker Swarm target, when the swarm answer asks for it. */
  swarm: SwarmStackModel | null;
};

export function buildStackModel(answers: Answers): StackModel {
  const compose = buildComposeModel(answers);
  return { ...compose, swarm: answers.swarm ? buildSwarmModel(compose, answers.backendReplicas) : null };
}
