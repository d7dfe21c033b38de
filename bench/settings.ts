/** The bench's environment settings, checked before anything runs: a typo fails with its name. */
export function positiveIntegerSetting(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^[1-9][0-9]{0,5}$/.test(text)) {
    process.stderr.write(`${name}=${JSON.stringify(text)}: must be a whole number from 1 to 999999\n`);
    process.exit(2);
  }
  return Number(text);
}
