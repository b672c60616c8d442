/** Number formats for benchmark reports; the tables come from src/benchmark. */
export { formatTable } from '../../src/benchmark/format-table.js';

export const fmt = {
  int: (n: number): string => Math.round(n).toLocaleString('en-US'),
  mb: (bytesPerSec: number): string => (bytesPerSec / 1e6).toFixed(1),
  ms: (n: number): string => n.toFixed(2),
  ratio: (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '-'),
  pct: (n: number): string => `${n.toFixed(2)}%`,
};
