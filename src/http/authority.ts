/** How a host and port appear in URLs and Host headers. Pure. */
export const DEFAULT_PORT = { http: 80, https: 443 } as const;
export type Scheme = keyof typeof DEFAULT_PORT;

/** A host as written in a URL or Host header: an IPv6 address in brackets. */
export const bracketHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** `host`, or `host:port` when the port is not the scheme's default. */
export function authority(scheme: Scheme, host: string, port: number): string {
  const bracketed = bracketHost(host);
  return port === DEFAULT_PORT[scheme] ? bracketed : `${bracketed}:${port}`;
}
