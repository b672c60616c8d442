/**
 * The configuration being assembled, before defaults and cross-checks: a config file fills one,
 * command-line options then apply to it in order, and `buildPlan` turns it into the frozen plan.
 * Every value remembers where it came from (an option and its position, or a config key path),
 * so a problem found late still points at its origin. Paths are absolute by the time they land
 * here (each source resolves its own relative paths).
 */
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { ConfigError, ConfigErrorCode } from './errors.js';
import {
  DEFAULT_INDEXES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MIME_TYPE,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_CLIENT_ID_LIMIT,
  DEFAULT_TABLE_SIZE,
  DEFAULT_USER_MIN_UID,
  DEFAULT_PROXY_CHECK_MS,
  DEFAULT_PROXY_TIMEOUT_MS,
  freezePlan,
  type AdminPlan,
  type AliasPlan,
  type ListenSpec,
  type RunAsPlan,
  type Plan,
  type ServerPlan,
  type ShapePlan,
  type SitePlan,
  type UpstreamPlan,
  type VhostPlan,
} from './plan.js';
import { describeReverse, type ReverseSpec } from './proxy-spec.js';
import { describeListen } from './strport.js';
import { isUnlimited, type ShapeLimits } from './shape-spec.js';
import { parseHeaderName, parseInteger, parseShapeBy, parseTableSize } from './values.js';
import type { ShapeSchedulePlan } from './shape-schedule.js';


/** A value and where it was given. */
export interface Sourced<T> {
  readonly value: T;
  readonly where: string;
}

export interface SiteDraft {
  root?: Sourced<string>;
  indexes?: string[];
  defaultType?: string;
  ignoreExts: string[];
  aliases: Array<Sourced<AliasPlan>>;
  /** Passwd file of user directories, when they are on. */
  userDirs?: string;
  userMinUid?: Sourced<number>;
  /** `--reverse` routes, in order. */
  proxies: Array<Sourced<ReverseSpec>>;
}

export interface VhostDraft extends SiteDraft {
  readonly hostname: Sourced<string>;
  /** Limits of this virtual host, nested in its server's (both apply). */
  shape?: Sourced<ShapeLimits>;
  /** Declared by the config file (command-line options may select it again by name). */
  readonly fromFile?: boolean;
}

export interface ServerDraft {
  /** How the server was declared, for messages: "the first server", "-h 8081 (option 5)", "servers[1]". */
  readonly origin: string;
  /** Declared by the config file (`-h PORT` may select it again by port). */
  readonly fromFile?: boolean;
  listen?: Sourced<ListenSpec>;
  readonly site: SiteDraft;
  readonly vhosts: VhostDraft[];
  shape?: Sourced<ShapeLimits>;
  /** `--trust-proxy` entries, each checked, with where the first one was given. */
  trustProxy?: Sourced<string[]>;
  /** Bonjour names, in order (`--no-bonjour` empties the list). */
  bonjour: string[];
  /** `--monster` path. */
  monster?: Sourced<string>;
  /** `--shape-schedule`. */
  shapeSchedule?: Sourced<ShapeSchedulePlan>;
  /** Settings that only mean something with a shape, with where each was given. */
  readonly shapeSettings: Partial<{ [K in keyof ShapeSettings]: Sourced<ShapeSettings[K]> & { readonly label: string } }>;
}

/** The companions of a shape, as a server draft holds them. */
export interface ShapeSettings {
  readonly shapeBy: 'ip' | 'connection';
  readonly shapeIpv6Prefix: number;
  readonly clientIdHeader: string;
  readonly clientIdLimit: number;
  readonly shapeTableSize: number;
}

/**
 * Checks and sets one shape companion (`label` is how the source names it: `--shape-by (option
 * 3)` comes from the option, `shapeBy` from the config key); shared by both sources.
 */
export function setShapeSetting(server: ServerDraft, setting: keyof ShapeSettings, raw: string, where: string, label: string): void {
  const settings = server.shapeSettings as Record<keyof ShapeSettings, Sourced<unknown> & { label: string }>;
  const sourced = (value: unknown) => ({ value, where, label });
  switch (setting) {
    case 'shapeBy':
      settings.shapeBy = sourced(parseShapeBy(raw, where));
      return;
    case 'shapeIpv6Prefix':
      settings.shapeIpv6Prefix = sourced(parseInteger(raw, where, 0, 128, 'a prefix length from 0 to 128'));
      return;
    case 'clientIdHeader':
      settings.clientIdHeader = sourced(parseHeaderName(raw, where));
      return;
    case 'clientIdLimit':
      settings.clientIdLimit = sourced(parseInteger(raw, where, 1, 1 << 20, 'a whole number of client ids from 1 to 1048576'));
      return;
    case 'shapeTableSize':
      settings.shapeTableSize = sourced(parseTableSize(raw, where));
      return;
  }
}

export interface Draft {
  readonly servers: ServerDraft[];
  workers?: number;
  graceMs?: number;
  cors?: boolean;
  noCache?: boolean;
  dotfiles?: boolean;
  tracebacks?: boolean;
  listings?: boolean;
  logfile?: string | null;
  responseTiming?: boolean;
  runAs?: RunAsPlan;
  maxConnections?: number;
  maxHeaderBytes?: number;
  bonjourInterfaces: string[];
  proxyTimeoutMs?: number;
  proxyInsecure?: boolean;
  proxyCheckMs?: number;
  admin?: ListenSpec;
  adminToken?: string;
  /** Where the token was read from (--admin-token-file), if it was. */
  adminTokenFile?: string | undefined;
}

/** What a path on disk is, as far as the plan cares. */
export type PathKind = 'directory' | 'file' | 'other' | 'missing' | 'unreadable';

/** Environment the builder consults; injected so it stays testable. */
export interface BuildEnv {
  /** Root of sites given no path (the seed serves the current directory). */
  readonly cwd: string;
  readonly defaultWorkers: number;
  statPath(path: string): PathKind;
}

export const newSiteDraft = (): SiteDraft => ({ ignoreExts: [], aliases: [], proxies: [] });

export function newServerDraft(origin: string, fromFile = false): ServerDraft {
  return { origin, fromFile, site: newSiteDraft(), vhosts: [], shapeSettings: {}, bonjour: [] };
}

/** A draft with the seed's first server (tcp:8080 unless told otherwise). */
export function newDraft(): Draft {
  return { servers: [newServerDraft('the first server')], bonjourInterfaces: [] };
}

/** Applies defaults, checks what involves several values or the disk, and freezes the plan. */
export function buildPlan(draft: Draft, env: BuildEnv): Plan {
  checkDistinctListeners(draft.servers);
  const upstreams = new Upstreams();
  return freezePlan({
    servers: draft.servers.map((server, id) => buildServer(server, id, env, upstreams)),
    upstreams: upstreams.list,
    proxy: {
      timeoutMs: draft.proxyTimeoutMs ?? DEFAULT_PROXY_TIMEOUT_MS,
      insecure: draft.proxyInsecure ?? false,
      checkIntervalMs: draft.proxyCheckMs ?? DEFAULT_PROXY_CHECK_MS,
    },
    http: {
      cors: draft.cors ?? false,
      noCache: draft.noCache ?? false,
      dotfiles: draft.dotfiles ?? false,
      tracebacks: draft.tracebacks ?? false,
      listings: draft.listings ?? true,
    },
    workers: draft.workers ?? env.defaultWorkers,
    shutdownGraceMs: draft.graceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    logfile: draft.logfile ?? null,
    responseTiming: draft.responseTiming ?? false,
    runAs: draft.runAs ?? null,
    maxConnections: draft.maxConnections ?? null,
    maxHeaderBytes: draft.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    bonjourInterfaces: draft.bonjourInterfaces,
    admin: buildAdmin(draft),
  });
}

/** Loopback needs no token; anything wider does (the API changes what every client gets). */
function buildAdmin(draft: Draft): AdminPlan | null {
  if (draft.admin === undefined) {
    if (draft.adminToken !== undefined) throw new ConfigError(ConfigErrorCode.BadValue, '--admin-token', 'is given without --admin (the control plane is off)');
    return null;
  }
  const listen = draft.admin;
  // A unix socket is private when others get nothing from its mode.
  const local = listen.kind === 'unix' ? (listen.mode & 0o007) === 0 : listen.host !== undefined && isLoopbackHost(listen.host);
  if (!local && draft.adminToken === undefined) {
    const where = listen.kind === 'unix' ? `${describeListen(listen)} with mode ${listen.mode.toString(8)} lets any local user in` : `${describeListen(listen)} is reachable beyond this machine`;
    throw new ConfigError(ConfigErrorCode.BadValue, '--admin', `${where}: give --admin-token too, or listen on interface=127.0.0.1 (a unix socket: mode=600)`);
  }
  return { listen, token: draft.adminToken ?? null, tokenFile: draft.adminTokenFile ?? null };
}

function isLoopbackHost(host: string): boolean {
  return (isIPv4(host) && host.startsWith('127.')) || host === '::1';
}

/** The listen spec a server gets when none was given. */
export function defaultListen(): ListenSpec {
  return { kind: 'tcp', port: 8080 };
}

/** Upstreams numbered once each, however many routes name them. */
class Upstreams {
  readonly list: UpstreamPlan[] = [];
  readonly #ids = new Map<string, number>();

  idOf(spec: ReverseSpec['upstream']): number {
    const key = describeReverse(spec, '');
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.list.length;
      this.list.push({ id, ...spec });
      this.#ids.set(key, id);
    }
    return id;
  }
}

function buildServer(draft: ServerDraft, id: number, env: BuildEnv, upstreams: Upstreams): ServerPlan {
  checkShapeCompanions(draft);
  // The server's own site first: upstreams are numbered in the order they were declared.
  const site = buildSite(draft.site, env, upstreams);
  const seen = new Map<string, string>();
  const vhosts: VhostPlan[] = draft.vhosts.map((vhost) => {
    const earlier = seen.get(vhost.hostname.value);
    if (earlier !== undefined) {
      throw new ConfigError(
        ConfigErrorCode.Conflict,
        vhost.hostname.where,
        `virtual host ${vhost.hostname.value} is already declared for ${draft.origin} by ${earlier}`,
      );
    }
    seen.set(vhost.hostname.value, vhost.hostname.where);
    return { hostname: vhost.hostname.value, ...buildSite(vhost, env, upstreams), shape: vhost.shape ? shapeOf(draft, vhost.shape.value) : null };
  });
  checkMonsterShadows(draft);
  return {
    id,
    listen: draft.listen?.value ?? defaultListen(),
    site,
    vhosts,
    shape: draft.shape ? shapeOf(draft, draft.shape.value) : null,
    trustProxy: draft.trustProxy?.value ?? [],
    bonjour: draft.bonjour,
    monster: draft.monster?.value ?? null,
    shapeSchedule: shapeScheduleOf(draft),
  };
}

function buildSite(draft: SiteDraft, env: BuildEnv, upstreams: Upstreams): SitePlan {
  const root = draft.root?.value ?? env.cwd;
  const where = draft.root?.where ?? '--path';
  const kind = env.statPath(root);
  if (kind === 'missing') {
    throw new ConfigError(ConfigErrorCode.NoSuchPath, where, `"${root}" does not exist (expected a directory or file)`);
  }
  if (kind === 'other') {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `"${root}" is neither a directory nor a regular file`);
  }
  if (kind === 'directory') {
    for (const alias of draft.aliases) {
      const target = join(root, ...alias.value.to);
      if (env.statPath(target) === 'missing') {
        throw new ConfigError(ConfigErrorCode.NoSuchPath, alias.where, `the alias target "${target}" does not exist`);
      }
    }
  }
  if (draft.userMinUid && draft.userDirs === undefined) {
    throw new ConfigError(ConfigErrorCode.Conflict, draft.userMinUid.where, 'applies to user directories, which are not on for this site (add -u)');
  }
  return {
    root,
    // An unreadable root is reported by the startup check, with its own exit status.
    rootIsFile: kind === 'file',
    indexes: draft.indexes && draft.indexes.length > 0 ? draft.indexes : [...DEFAULT_INDEXES],
    defaultType: draft.defaultType ?? DEFAULT_MIME_TYPE,
    ignoreExts: draft.ignoreExts,
    aliases: draft.aliases.map((alias) => alias.value),
    userDirs: draft.userDirs === undefined ? null : { passwd: draft.userDirs, minUid: draft.userMinUid?.value ?? DEFAULT_USER_MIN_UID },
    proxies: buildProxies(draft.proxies, upstreams),
  };
}

/** One route per mount: two `--reverse` for the same path of one site cannot both answer. */
function buildProxies(proxies: SiteDraft['proxies'], upstreams: Upstreams): SitePlan['proxies'] {
  const seen = new Map<string, string>();
  return proxies.map(({ value, where }) => {
    const earlier = seen.get(value.mount);
    if (earlier !== undefined) {
      const what = value.mount === '' ? 'every path' : `the path ${value.mount}`;
      throw new ConfigError(ConfigErrorCode.Conflict, where, `${what} of this server or virtual host is already proxied by ${earlier}`);
    }
    seen.set(value.mount, where);
    return { upstream: upstreams.idOf(value.upstream), mount: value.mount };
  });
}

/**
 * The shape plan for `limits` (the server's, or one of its virtual hosts'): the companions are the
 * server's. Null when nothing is limited; the companions are checked whether or not anything is.
 */
function shapeOf(draft: ServerDraft, limits: ShapeLimits): ShapePlan | null {
  checkShapeSettings(draft);
  if (isUnlimited(limits)) return null;
  const settings = draft.shapeSettings;
  return {
    limits,
    by: settings.shapeBy?.value ?? 'ip',
    ipv6PrefixBits: settings.shapeIpv6Prefix?.value ?? 128,
    clientIdHeader: settings.clientIdHeader?.value ?? null,
    clientIdLimit: settings.clientIdLimit?.value ?? DEFAULT_CLIENT_ID_LIMIT,
    tableSize: settings.shapeTableSize?.value ?? DEFAULT_TABLE_SIZE,
  };
}

/** A startup schedule needs the limit it drives (and per client, clients to limit). */
function shapeScheduleOf(draft: ServerDraft): ShapeSchedulePlan | null {
  const given = draft.shapeSchedule;
  if (given === undefined) return null;
  if (draft.shape === undefined || isUnlimited(draft.shape.value)) {
    throw new ConfigError(ConfigErrorCode.Conflict, given.where, 'a schedule drives a limit of --shape: give the server one (e.g. --shape 100MB,4Mbit)');
  }
  if (given.value.target === 'clients' && draft.shapeSettings.shapeBy?.value === 'connection') {
    throw new ConfigError(ConfigErrorCode.Conflict, given.where, 'per-client: shaping by connection (--shape-by connection) has no clients to schedule');
  }
  return given.value;
}

function checkShapeSettings(draft: ServerDraft): void {
  const settings = draft.shapeSettings;
  const by = settings.shapeBy?.value ?? 'ip';
  if (by === 'connection' && settings.clientIdHeader) {
    throw new ConfigError(
      ConfigErrorCode.Conflict,
      settings.clientIdHeader.where,
      'a client id header keys per-client buckets, which shaping by connection does not use',
    );
  }
  if (settings.clientIdLimit && !settings.clientIdHeader) {
    throw new ConfigError(ConfigErrorCode.Conflict, settings.clientIdLimit.where, 'limits client ids, but none is read: give a client id header (--client-id-header) for the same server');
  }
  if (settings.clientIdHeader && !draft.trustProxy) {
    throw new ConfigError(
      ConfigErrorCode.Conflict,
      settings.clientIdHeader.where,
      'any client could pick its own bucket: name who may set this header with --trust-proxy (e.g. --trust-proxy loopback)',
    );
  }
}

/** A proxy mount under the vhost monster path would never be reached (the monster path is routed first). */
function checkMonsterShadows(draft: ServerDraft): void {
  const monster = draft.monster;
  if (monster === undefined) return;
  for (const site of [draft.site, ...draft.vhosts]) {
    for (const proxy of site.proxies) {
      const mount = proxy.value.mount;
      if (mount === monster.value || mount.startsWith(`${monster.value}/`)) {
        throw new ConfigError(ConfigErrorCode.Conflict, proxy.where, `the path ${mount} is under the vhost monster path of ${monster.where}, which is routed first`);
      }
    }
  }
}

/** Shape companions with no shape for the server or any of its virtual hosts mean nothing. */
function checkShapeCompanions(draft: ServerDraft): void {
  const given = Object.values(draft.shapeSettings)[0];
  if (given && !draft.shape && !draft.vhosts.some((vhost) => vhost.shape)) {
    throw new ConfigError(ConfigErrorCode.Conflict, given.where, `${given.label} needs a shape (--shape) for the same server`);
  }
}

/** Two servers on one port (or unix socket) cannot both listen: name both declarations. */
function checkDistinctListeners(servers: readonly ServerDraft[]): void {
  const taken: Array<{ listen: ListenSpec; where: string }> = [];
  for (const server of servers) {
    const listen = server.listen?.value ?? defaultListen();
    const where = server.listen?.where ?? server.origin;
    const clash = taken.find((t) => sameAddress(t.listen, listen));
    if (clash) {
      throw new ConfigError(ConfigErrorCode.Conflict, where, `${describePort(listen)} is already used by ${clash.where}`);
    }
    taken.push({ listen, where });
  }
}

function sameAddress(a: ListenSpec, b: ListenSpec): boolean {
  if (a.kind === 'unix' || b.kind === 'unix') return a.kind === 'unix' && b.kind === 'unix' && a.path === b.path;
  // Port 0 asks the system for a fresh port: never a clash.
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host === undefined || b.host === undefined || a.host === b.host;
}

function describePort(listen: ListenSpec): string {
  return listen.kind === 'unix' ? `unix socket ${listen.path}` : `port ${listen.port}`;
}
