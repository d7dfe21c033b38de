/**
 * Runs a third-party scanner directly (no shell, so no quoting of paths), tells a missing tool
 * apart from a failing one, and reads the tool's version for the audit's report.
 */
import { spawnSync } from 'node:child_process';
import type { ScannerName } from './findings.js';

export interface ExternalTool {
  scanner: ScannerName;
  command: string;
  /** Debian 12's package that installs the command. */
  debianPackage: string;
  /** Reads the version from `command --version`'s output. */
  versionPattern: RegExp;
}

export class MissingToolError extends Error {
  constructor(readonly tool: ExternalTool) {
    super(`${tool.command} is not installed (Debian package: ${tool.debianPackage})`);
    this.name = 'MissingToolError';
  }
}

export interface ToolOutput {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runTool(
  tool: ExternalTool,
  args: readonly string[],
  options: { cwd?: string; input?: string } = {},
): ToolOutput {
  const result = spawnSync(tool.command, args, { ...options, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new MissingToolError(tool);
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function toolVersion(tool: ExternalTool): string {
  const output = runTool(tool, ['--version']);
  const version = tool.versionPattern.exec(`${output.stdout}\n${output.stderr}`)?.[1];
  if (version === undefined) throw new Error(`${tool.command} --version: no version in its output`);
  return version;
}

/** The tool's output is not what its machine-readable format promises: fail loudly, never pass. */
export function unreadableOutput(tool: ExternalTool, output: ToolOutput): Error {
  const said = output.stderr.trim() || output.stdout.slice(0, 500);
  return new Error(`${tool.command} exited ${output.status} with unreadable output: ${said}`);
}
