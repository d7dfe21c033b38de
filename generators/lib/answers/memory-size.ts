/**
 * Memory sizes in the Compose byte format (`64m`, `1G`, `512MB`), restricted to whole numbers
 * so that every accepted value means the same to Compose, to podman and to the budget maths.
 */
const UNIT_BYTES = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;
type Unit = keyof typeof UNIT_BYTES;

export interface MemorySize {
  /** Normalised Compose notation, e.g. `512m`: lower-case single-letter unit. */
  readonly text: string;
  readonly bytes: number;
}

const MEMORY_PATTERN = /^([1-9][0-9]{0,12})(b|k|kb|m|mb|g|gb)$/i;
export const MEMORY_RULE = 'must be a whole number followed by a unit b, k, m or g (e.g. "64m", "1g")';
export const MEMORY_CEILING_BYTES = 1024 ** 4;

export function parseMemorySize(value: string): MemorySize | undefined {
  const match = MEMORY_PATTERN.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2]!.toLowerCase().charAt(0) as Unit;
  const bytes = amount * UNIT_BYTES[unit];
  if (!Number.isSafeInteger(bytes)) return undefined;
  return { text: `${amount}${unit}`, bytes };
}

export function formatMebibytes(bytes: number): string {
  return bytes % 1024 ** 3 === 0 ? `${bytes / 1024 ** 3}g` : `${Math.ceil(bytes / 1024 ** 2)}m`;
}
