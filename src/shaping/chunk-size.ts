/**
 * How many bytes a paced flow sends at a time: about PACE_MS worth of its effective rate (the
 * smaller of its client share and its server share), so a 100 ms window never sees more than a
 * few chunks; at least 1 KiB, so low rates do not cost a syscall per few bytes; at most 64 KiB.
 * At very low rates the floor drops so that a chunk is always due within MAX_GAP_MS: uWS closes
 * a connection that sends nothing for about 10 s.
 */

export const PACE_MS = 10;
export const MIN_CHUNK_BYTES = 1024;
export const MAX_CHUNK_BYTES = 64 * 1024;
export const MAX_GAP_MS = 2000;

/**
 * `clientRate`/`serverRate` in bytes per second (0 = unlimited), shared among
 * `clientFlows`/`serverFlows` flows (this one included).
 */
export function chunkBytes(clientRate: number, clientFlows: number, serverRate: number, serverFlows: number): number {
  const clientShare = clientRate === 0 ? Infinity : clientRate / Math.max(1, clientFlows);
  const serverShare = serverRate === 0 ? Infinity : serverRate / Math.max(1, serverFlows);
  const rate = Math.min(clientShare, serverShare);
  if (rate === Infinity) return MAX_CHUNK_BYTES;
  const floor = Math.min(MIN_CHUNK_BYTES, (rate * MAX_GAP_MS) / 1000);
  const bytes = Math.max(floor, (rate * PACE_MS) / 1000);
  return Math.max(1, Math.min(MAX_CHUNK_BYTES, Math.floor(bytes)));
}
