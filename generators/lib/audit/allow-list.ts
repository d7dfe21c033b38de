/**
 * The reviewed allow-list: findings the scanners report on what we generate that are acceptable,
 * each with its reason. The tests fail on any finding not listed here, and `secure-stack verify
 * --audit` prints the reason beside each accepted finding. Add an entry only with a reason a
 * reviewer can check.
 */
import type { AllowedFinding } from './findings.js';

export const ALLOW_LIST: readonly AllowedFinding[] = [];
