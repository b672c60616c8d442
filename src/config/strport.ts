/**
 * Twisted "strports" listen descriptions, as the seed's `-p/--port` took them:
 * `8080`, `tcp:8080:interface=127.0.0.1`, `ssl:8443:privateKey=key.pem:certKey=cert.pem`,
 * `unix:/run/media.sock:mode=660`. Fields are separated by `:`; a backslash escapes the next
 * character (so an IPv6 interface is written `interface=\:\:1`).
 */
import { resolve } from 'node:path';
import { ConfigError, ConfigErrorCode } from './errors.js';
import type { ListenSpec } from './plan.js';

const EXAMPLES = 'expected e.g. 8080, tcp:8080:interface=127.0.0.1, ssl:8443:privateKey=key.pem:certKey=cert.pem or unix:/path/to.sock';

interface Fields {
  readonly positional: string[];
  readonly keywords: Map<string, string>;
}

/** Parses a strports description into a listen spec; `where` names the option for messages. */
export function parseStrport(description: string, where: string): ListenSpec {
  const fail = (detail: string): never => {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `${detail} in "${description}" (${EXAMPLES})`);
  };
  if (description.trim() === '') fail('empty listen description');
  const fields = splitFields(description, fail);
  const first = fields.positional[0] ?? '';
  if (/^\d+$/.test(first) && fields.positional.length === 1 && fields.keywords.size === 0) {
    return { kind: 'tcp', port: parsePort(first, fail) };
  }
  const kind = first.toLowerCase();
  const rest: Fields = { positional: fields.positional.slice(1), keywords: fields.keywords };
  switch (kind) {
    case 'tcp':
      return parseTcp(rest, fail);
    case 'ssl':
      return parseSsl(rest, fail);
    case 'unix':
      return parseUnix(rest, fail);
    default:
      return fail(`unknown listen type "${first}" (known: tcp, ssl, unix)`);
  }
}

function splitFields(description: string, fail: (detail: string) => never): Fields {
  const raw: string[] = [];
  let current = '';
  for (let i = 0; i < description.length; i++) {
    const ch = description[i];
    if (ch === '\\') {
      if (i + 1 >= description.length) fail('trailing backslash');
      current += description[++i];
    } else if (ch === ':') {
      raw.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  raw.push(current);
  const positional: string[] = [];
  const keywords = new Map<string, string>();
  for (const field of raw) {
    const eq = field.indexOf('=');
    // The endpoint type and positional values never contain "="; keyword values may.
    if (eq > 0 && /^[A-Za-z]+$/.test(field.slice(0, eq))) {
      const key = field.slice(0, eq);
      if (keywords.has(key)) fail(`"${key}" given twice`);
      keywords.set(key, field.slice(eq + 1));
    } else {
      if (keywords.size > 0) fail(`positional value "${field}" after keyword arguments`);
      positional.push(field);
    }
  }
  return { positional, keywords };
}

function takeArgs(
  fields: Fields,
  names: readonly string[],
  fail: (detail: string) => never,
): Map<string, string> {
  if (fields.positional.length > names.length) {
    fail(`too many positional values (at most ${names.length}: ${names.join(', ')})`);
  }
  const args = new Map<string, string>();
  fields.positional.forEach((value, i) => args.set(names[i]!, value));
  for (const [key, value] of fields.keywords) {
    if (args.has(key)) fail(`"${key}" given both by position and by name`);
    args.set(key, value);
  }
  return args;
}

function rejectUnknown(args: Map<string, string>, known: readonly string[], fail: (detail: string) => never): void {
  for (const key of args.keys()) {
    if (!known.includes(key)) fail(`unknown parameter "${key}" (known: ${known.join(', ')})`);
  }
}

function parsePort(value: string | undefined, fail: (detail: string) => never): number {
  if (value === undefined || value === '') return fail('missing port number');
  if (!/^\d+$/.test(value) || Number(value) > 65535) return fail(`port "${value}" is not a number from 0 to 65535`);
  return Number(value);
}

function parseInterface(value: string | undefined, fail: (detail: string) => never): { host?: string } {
  if (value === undefined) return {};
  if (value === '' || /\s/.test(value)) return fail(`interface "${value}" is not an address or host name`);
  return { host: value };
}

function checkBacklog(value: string | undefined, fail: (detail: string) => never): void {
  // Accepted so old command lines keep working; uWS uses its own listen backlog.
  if (value !== undefined && !/^\d+$/.test(value)) fail(`backlog "${value}" is not a number`);
}

// Positional orders follow Twisted's endpoint parsers.
const TCP_KEYS = ['port', 'interface', 'backlog'];
const SSL_KEYS = ['port', 'privateKey', 'certKey', 'sslmethod', 'interface', 'backlog', 'dhParameters'];
const UNIX_KEYS = ['address', 'mode', 'backlog', 'lockfile'];

function parseTcp(fields: Fields, fail: (detail: string) => never): ListenSpec {
  const args = takeArgs(fields, TCP_KEYS, fail);
  rejectUnknown(args, TCP_KEYS, fail);
  checkBacklog(args.get('backlog'), fail);
  return { kind: 'tcp', port: parsePort(args.get('port'), fail), ...parseInterface(args.get('interface'), fail) };
}

function parseSsl(fields: Fields, fail: (detail: string) => never): ListenSpec {
  const args = takeArgs(fields, SSL_KEYS.slice(0, 6), fail);
  if (args.has('extraCertChain')) fail('extraCertChain is not supported: append the chain to the certKey PEM file');
  rejectUnknown(args, SSL_KEYS, fail);
  checkBacklog(args.get('backlog'), fail);
  // Twisted's default key file, kept so old command lines mean the same.
  const privateKey = args.get('privateKey') ?? 'server.pem';
  if (privateKey === '') return fail('privateKey is empty');
  const dhParameters = args.get('dhParameters');
  return {
    kind: 'ssl',
    port: parsePort(args.get('port'), fail),
    ...parseInterface(args.get('interface'), fail),
    privateKey,
    // As in Twisted, one PEM file may hold both the key and the certificate.
    certKey: args.get('certKey') || privateKey,
    ...(dhParameters ? { dhParameters } : {}),
  };
}

function parseUnix(fields: Fields, fail: (detail: string) => never): ListenSpec {
  const args = takeArgs(fields, UNIX_KEYS, fail);
  rejectUnknown(args, UNIX_KEYS, fail);
  checkBacklog(args.get('backlog'), fail);
  const path = args.get('address');
  if (!path) return fail('unix needs a socket path');
  const lockfile = args.get('lockfile');
  if (lockfile !== undefined && lockfile !== '0' && lockfile !== '1') fail(`lockfile "${lockfile}" is not 0 or 1`);
  // Twisted's default mode, kept so old command lines mean the same.
  const mode = args.get('mode') ?? '666';
  if (!/^[0-7]{3,4}$/.test(mode)) return fail(`mode "${mode}" is not an octal permission such as 660`);
  return { kind: 'unix', path, mode: parseInt(mode, 8) };
}

/** The URL (or path) users type to reach a listen spec, for startup messages. */
export function describeListen(spec: ListenSpec, boundPort?: number): string {
  if (spec.kind === 'unix') return `unix:${spec.path}`;
  const scheme = spec.kind === 'ssl' ? 'https' : 'http';
  const port = boundPort ?? spec.port;
  // No interface: uWS listens on the IPv6 wildcard, dual-stack, which takes IPv4 clients too.
  const host = spec.host === undefined ? '[::]' : spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return `${scheme}://${host}:${port}/`;
}

/** Files named in a listen description are relative to the directory the server starts in. */
export function absoluteListenPaths(listen: ListenSpec, base: string): ListenSpec {
  switch (listen.kind) {
    case 'tcp':
      return listen;
    case 'unix':
      return { ...listen, path: resolve(base, listen.path) };
    case 'ssl':
      return {
        ...listen,
        privateKey: resolve(base, listen.privateKey),
        certKey: resolve(base, listen.certKey),
        ...(listen.dhParameters ? { dhParameters: resolve(base, listen.dhParameters) } : {}),
      };
  }
}
