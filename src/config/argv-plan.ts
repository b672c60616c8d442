/**
 * Turns the options of a `serve` command line, in the order given, into a plan. As in the seed,
 * each option applies to the server or virtual host declared most recently before it.
 */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, ConfigErrorCode } from './errors.js';
import { canonicalName, findOption, type OptionSpec } from './option-table.js';
import {
  DEFAULT_INDEXES,
  DEFAULT_MIME_TYPE,
  DEFAULT_SHUTDOWN_GRACE_MS,
  freezePlan,
  type ListenSpec,
  type Plan,
  type ServerPlan,
  type ShapePlan,
  type SitePlan,
} from './plan.js';
import { isUnlimited, parseShapeSpec, type ShapeLimits } from './shape-spec.js';
import { parseStrport } from './strport.js';

/** One option occurrence as the command-line parser saw it. */
export interface GivenOption {
  readonly name: string;
  readonly value: string | boolean;
}

/** What a path on disk is, as far as the plan cares. */
export type PathKind = 'directory' | 'file' | 'other' | 'missing' | 'unreadable';

/** Environment the resolver may consult; injected so the resolver stays testable. */
export interface ResolveEnv {
  readonly cwd: string;
  readonly defaultWorkers: number;
  statPath(path: string): PathKind;
}

interface SiteDraft {
  path?: { value: string; where: string };
  indexes: string[];
  defaultType?: string;
  ignoreExts: string[];
}

interface ServerDraft {
  listen?: ListenSpec;
  site: SiteDraft;
  shape?: ShapeLimits;
  /** Shaping options given for this server, to check --shape came too. */
  shapeOptions: Map<string, string>;
  shapeBy?: 'ip' | 'connection';
  ipv6PrefixBits?: number;
  clientIdHeader?: string;
  tableSize?: number;
}

interface Draft {
  servers: ServerDraft[];
  workers?: number;
  graceMs?: number;
  cors: boolean;
  noCache: boolean;
  dotfiles: boolean;
  tracebacks: boolean;
}

/** Client buckets per server unless --shape-table-size says otherwise. */
export const DEFAULT_TABLE_SIZE = 65_536;

const newSite = (): SiteDraft => ({ indexes: [], ignoreExts: [] });
const newServer = (): ServerDraft => ({ site: newSite(), shapeOptions: new Map() });

/** Resolves ordered options into a validated, frozen plan. Throws `ConfigError` on bad input. */
export function resolveArgv(options: readonly GivenOption[], env: ResolveEnv): Plan {
  const draft: Draft = {
    servers: [newServer()],
    cors: false,
    noCache: false,
    dotfiles: false,
    tracebacks: false,
  };
  options.forEach((given, index) => {
    const spec = findOption(given.name);
    if (!spec) throw new ConfigError(ConfigErrorCode.Syntax, given.name, 'unknown option');
    applyOption(draft, spec, given, `${given.name} (option ${index + 1})`);
  });
  return freezePlan({
    servers: draft.servers.map((server, id) => buildServer(server, id, env)),
    http: { cors: draft.cors, noCache: draft.noCache, dotfiles: draft.dotfiles, tracebacks: draft.tracebacks },
    workers: draft.workers ?? env.defaultWorkers,
    shutdownGraceMs: draft.graceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
  });
}

function applyOption(draft: Draft, spec: OptionSpec, given: GivenOption, where: string): void {
  const value = typeof given.value === 'string' ? given.value : '';
  const server = draft.servers[draft.servers.length - 1]!;
  const site = server.site;
  switch (canonicalName(spec)) {
    case '--port': {
      const main = draft.servers[0]!;
      if (main.listen) throw new ConfigError(ConfigErrorCode.Conflict, where, 'the first server\'s port is already set');
      main.listen = parseStrport(value, where);
      return;
    }
    case '--path':
      site.path = { value: nonEmpty(value, where, 'a directory or file path'), where };
      return;
    case '--index':
      site.indexes.push(checkFileName(value, where));
      return;
    case '--mime-type':
      site.defaultType = checkMimeType(value, where);
      return;
    case '--ignore-ext':
      site.ignoreExts.push(checkExtension(value, where));
      return;
    case '--allow-ignore-ext':
      if (given.value === true) site.ignoreExts.push('*');
      return;
    case '--shape':
      server.shape = parseShapeSpec(value, where);
      return;
    case '--shape-by':
      if (value !== 'ip' && value !== 'connection') {
        throw new ConfigError(ConfigErrorCode.BadValue, where, `got "${value}", expected ip or connection`);
      }
      server.shapeBy = value;
      server.shapeOptions.set('--shape-by', where);
      return;
    case '--shape-ipv6-prefix':
      server.ipv6PrefixBits = parseInteger(value, where, 0, 128, 'a prefix length from 0 to 128');
      server.shapeOptions.set('--shape-ipv6-prefix', where);
      return;
    case '--client-id-header':
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(value)) {
        throw new ConfigError(ConfigErrorCode.BadValue, where, `"${value}" is not a header name (expected e.g. X-Viewer-Id)`);
      }
      server.clientIdHeader = value.toLowerCase();
      server.shapeOptions.set('--client-id-header', where);
      return;
    case '--shape-table-size': {
      const size = parseInteger(value, where, 16, 1 << 24, 'a power of two from 16 to 16777216');
      if ((size & (size - 1)) !== 0) {
        throw new ConfigError(ConfigErrorCode.BadValue, where, `got "${value}", expected a power of two from 16 to 16777216`);
      }
      server.tableSize = size;
      server.shapeOptions.set('--shape-table-size', where);
      return;
    }
    case '--cors':
      draft.cors = given.value === true;
      return;
    case '--no-cache':
      draft.noCache = given.value === true;
      return;
    case '--dotfiles':
      draft.dotfiles = given.value === true;
      return;
    case '--notracebacks':
      if (given.value === true) draft.tracebacks = false;
      return;
    case '--tracebacks':
      draft.tracebacks = given.value === true;
      return;
    case '--workers':
      draft.workers = parseInteger(value, where, 1, 256, 'a whole number of threads from 1 to 256');
      return;
    case '--shutdown-timeout':
      draft.graceMs = parseSeconds(value, where);
      return;
    default:
      throw new ConfigError(ConfigErrorCode.Syntax, where, 'option is not handled');
  }
}

function buildServer(draft: ServerDraft, id: number, env: ResolveEnv): ServerPlan {
  return {
    id,
    listen: absoluteListenPaths(draft.listen ?? { kind: 'tcp', port: 8080 }, env.cwd),
    site: buildSite(draft.site, env),
    shape: buildShape(draft),
  };
}

function buildShape(draft: ServerDraft): ShapePlan | null {
  if (!draft.shape) {
    const [option, where] = [...draft.shapeOptions.entries()][0] ?? [];
    if (option) throw new ConfigError(ConfigErrorCode.Conflict, where!, `${option} needs --shape for the same server`);
    return null;
  }
  const by = draft.shapeBy ?? 'ip';
  if (by === 'connection' && draft.clientIdHeader) {
    throw new ConfigError(
      ConfigErrorCode.Conflict,
      draft.shapeOptions.get('--client-id-header')!,
      '--client-id-header keys per-client buckets, which --shape-by connection does not use',
    );
  }
  if (isUnlimited(draft.shape)) return null;
  return {
    limits: draft.shape,
    by,
    ipv6PrefixBits: draft.ipv6PrefixBits ?? 128,
    clientIdHeader: draft.clientIdHeader ?? null,
    tableSize: draft.tableSize ?? DEFAULT_TABLE_SIZE,
  };
}

/** Files named in a listen description are relative to the directory the server starts in. */
function absoluteListenPaths(listen: ListenSpec, cwd: string): ListenSpec {
  switch (listen.kind) {
    case 'tcp':
      return listen;
    case 'unix':
      return { ...listen, path: resolve(cwd, listen.path) };
    case 'ssl':
      return {
        ...listen,
        privateKey: resolve(cwd, listen.privateKey),
        certKey: resolve(cwd, listen.certKey),
        ...(listen.dhParameters ? { dhParameters: resolve(cwd, listen.dhParameters) } : {}),
      };
  }
}

function buildSite(draft: SiteDraft, env: ResolveEnv): SitePlan {
  const where = draft.path?.where ?? '--path';
  const root = draft.path ? resolve(env.cwd, draft.path.value) : env.cwd;
  const kind = env.statPath(root);
  if (kind === 'missing') {
    throw new ConfigError(ConfigErrorCode.NoSuchPath, where, `"${root}" does not exist (expected a directory or file)`);
  }
  if (kind === 'other') {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `"${root}" is neither a directory nor a regular file`);
  }
  return {
    root,
    // An unreadable root is reported by the startup check with its own exit status.
    rootIsFile: kind === 'file',
    indexes: draft.indexes.length > 0 ? draft.indexes : [...DEFAULT_INDEXES],
    defaultType: draft.defaultType ?? DEFAULT_MIME_TYPE,
    ignoreExts: draft.ignoreExts,
  };
}

function nonEmpty(value: string, where: string, expected: string): string {
  if (value.trim() === '') throw new ConfigError(ConfigErrorCode.BadValue, where, `empty value (expected ${expected})`);
  return value;
}

function checkFileName(value: string, where: string): string {
  nonEmpty(value, where, 'a file name such as index.html');
  if (value.includes('/') || value.includes('\\') || value === '.' || value === '..' || isAbsolute(value)) {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `"${value}" is not a plain file name (expected e.g. index.html)`);
  }
  return value;
}

const MIME_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;\s*[A-Za-z0-9_-]+=[A-Za-z0-9_.-]+)*$/;

function checkMimeType(value: string, where: string): string {
  if (!MIME_TYPE.test(value)) {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `"${value}" is not a media type (expected e.g. video/f4f)`);
  }
  return value;
}

function checkExtension(value: string, where: string): string {
  const ext = value.startsWith('.') ? value.slice(1) : value;
  if (ext === '' || /[/\\\s]/.test(ext)) {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `"${value}" is not a file extension (expected e.g. .m3u8)`);
  }
  return ext;
}

function parseInteger(value: string, where: string, min: number, max: number, expected: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `got "${value}", expected ${expected}`);
  }
  return n;
}

function parseSeconds(value: string, where: string): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n > 3600) {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `got "${value}", expected seconds from 0 to 3600`);
  }
  return Math.round(n * 1000);
}
