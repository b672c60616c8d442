/**
 * One access log line in the Combined Log Format:
 * `host ident user [time] "request" status bytes "referer" "user-agent"`. Pure.
 */

export interface LoggedExchange {
  readonly remote: string;
  readonly method: string;
  /** Path and query as requested. */
  readonly target: string;
  readonly status: number;
  /** Body bytes actually sent. */
  readonly bytes: number;
  readonly referer: string;
  readonly userAgent: string;
  /** Milliseconds since the epoch when the request arrived. */
  readonly time: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function formatCombined(entry: LoggedExchange): string {
  return (
    `${entry.remote} - - [${formatLogTime(entry.time)}] "${escapeField(entry.method)} ${escapeField(entry.target)} HTTP/1.1" ` +
    `${entry.status} ${entry.bytes === 0 ? '-' : entry.bytes} "${entry.referer === '' ? '-' : escapeField(entry.referer)}" ` +
    `"${entry.userAgent === '' ? '-' : escapeField(entry.userAgent)}"`
  );
}

let cachedSecond = -1;
let cachedText = '';

/** `10/Oct/2000:13:55:36 -0700`, in the server's local time zone, as Apache writes it. */
export function formatLogTime(time: number): string {
  // Many lines share a second: format each second once.
  const second = Math.floor(time / 1000);
  if (second !== cachedSecond) {
    cachedText = formatSecond(second * 1000);
    cachedSecond = second;
  }
  return cachedText;
}

function formatSecond(time: number): string {
  const date = new Date(time);
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${pad(date.getDate())}/${MONTHS[date.getMonth()]}/${date.getFullYear()}:` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
  );
}

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Escapes what would break a quoted field or a line: quotes, backslashes, control bytes. */
export function escapeField(text: string): string {
  return text.replace(/[\\"\x00-\x1f\x7f]/g, (ch) => (ch === '"' ? '\\"' : ch === '\\' ? '\\\\' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
