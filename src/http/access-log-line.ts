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

/** What --response-timing adds: the response time, and the limit in force at its end (0: none). */
export interface ExchangeTiming {
  readonly seconds: number;
  readonly limit: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function formatCombined(entry: LoggedExchange): string {
  return (
    `${entry.remote} - - [${formatLogTime(entry.time)}] "${escapeField(entry.method)} ${escapeField(entry.target)} HTTP/1.1" ` +
    `${entry.status} ${entry.bytes === 0 ? '-' : entry.bytes} "${entry.referer === '' ? '-' : escapeField(entry.referer, 'latin1')}" ` +
    `"${entry.userAgent === '' ? '-' : escapeField(entry.userAgent, 'latin1')}"`
  );
}

/** The combined line and ` rt=SECONDS rate=B/s limit=B/s|-` after it (combined-log readers stop at the user agent). */
export function formatTimed(entry: LoggedExchange, timing: ExchangeTiming): string {
  const rate = timing.seconds > 0 ? Math.round(entry.bytes / timing.seconds) : 0;
  return `${formatCombined(entry)} rt=${timing.seconds.toFixed(3)} rate=${rate} limit=${timing.limit > 0 ? timing.limit : '-'}`;
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

const PLAIN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Escapes what could break a quoted field or fool a log reader, as Apache does: quotes and
 * backslashes get a backslash; every other byte outside printable ASCII (control bytes, DEL, and
 * every byte of a non-ASCII character, C1 controls such as U+0085 and U+009B included) becomes
 * `\xHH`. `encoding` says how the text holds the bytes received: uWS decodes the request target
 * as UTF-8 and header values as Latin-1 (one character per byte).
 */
export function escapeField(text: string, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  if (PLAIN.test(text)) return text;
  let escaped = '';
  for (const byte of Buffer.from(text, encoding)) {
    if (byte === 0x22) escaped += '\\"';
    else if (byte === 0x5c) escaped += '\\\\';
    else if (byte < 0x20 || byte >= 0x7f) escaped += `\\x${byte.toString(16).padStart(2, '0')}`;
    else escaped += String.fromCharCode(byte);
  }
  return escaped;
}
