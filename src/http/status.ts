/** Status lines: the standard reason phrase of any status (upstreams send statuses we never make). */
import { STATUS_CODES } from 'node:http';

/** `404 Not Found` for 404. */
export function statusLine(status: number): string {
  return `${status} ${reasonPhrase(status)}`;
}

export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}
