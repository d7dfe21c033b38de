/** Where a run reports progress: yeoman's logger in the generator, the terminal in the bin. */
export interface RunLog {
  info(text: string): void;
  ok(text: string): void;
}
