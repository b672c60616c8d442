/**
 * Every error response the server makes, in one place: a stable code (sent as the
 * `Mediacast-Error` header, so a test rig can tell our 502 from an upstream's), its status and
 * the sentence the page shows.
 */
export const ERROR_CATALOG = {
  'bad-path': { status: 400, message: 'The request path is malformed.' },
  'bad-monster-host': { status: 400, message: 'Expected /PATH/http/host[:port]/... or /PATH/https/host[:port]/... after the vhost monster path.' },
  'bad-proxy-path': { status: 400, message: 'A proxied path may not contain "." or ".." segments, encoded slashes or backslashes.' },
  'moved-to-directory': { status: 301, message: 'Moved to the directory form of this path.' },
  forbidden: { status: 403, message: 'Access to this path is not permitted.' },
  'listing-off': { status: 403, message: 'Directory listings are turned off on this server.' },
  'not-found': { status: 404, message: 'No such file or directory.' },
  'method-not-allowed': { status: 405, message: 'This method is not allowed here.' },
  'precondition-failed': { status: 412, message: 'A precondition of the request failed.' },
  'range-not-satisfiable': { status: 416, message: 'The requested range lies outside the file.' },
  'read-failed': { status: 500, message: 'The server could not read this file.' },
  internal: { status: 500, message: 'The server could not complete this request.' },
  'upstream-down': { status: 502, message: 'The upstream server is down (its health check fails).' },
  'upstream-unreachable': { status: 502, message: 'The upstream server could not be reached.' },
  'upstream-failed': { status: 502, message: 'The upstream server sent no valid response.' },
  'injected-fault': { status: 503, message: 'A fault injected through the control plane answered this request.' },
  'out-of-resources': { status: 503, message: 'The server is out of file descriptors or memory for now; try again.' },
  'upstream-timeout': { status: 504, message: 'The upstream server sent no response headers in time.' },
} as const satisfies Record<string, { readonly status: number; readonly message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
