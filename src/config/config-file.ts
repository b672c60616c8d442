/**
 * The config file (`--config FILE`, JSON or YAML): the same tree as a command line — servers,
 * their virtual hosts and routes, shaping per server — checked with typanion for its structure,
 * then value by value with the command line's own checks. Messages point at the key path:
 * `media.yaml: servers[1].vhosts[0].path: "/srv/x" does not exist`. Relative paths are relative
 * to the directory of the file.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import * as t from 'typanion';
import { parse as parseYaml } from 'yaml';
import {
  newDraft,
  newServerDraft,
  newSiteDraft,
  setShapeSetting,
  type Draft,
  type ServerDraft,
  type ShapeSettings,
  type SiteDraft,
  type Sourced,
} from './draft.js';
import { ConfigError, ConfigErrorCode } from './errors.js';
import { DEFAULT_PASSWD_FILE } from './plan.js';
import { parseShapeSpec, shapeFromParts, type ShapeLimits, type ShapeParts } from './shape-spec.js';
import { absoluteListenPaths, parseStrport } from './strport.js';
import {
  parseAdminToken,
  checkExtension,
  checkFileName,
  checkMimeType,
  checkNonEmpty,
  parseAlias,
  parseBonjourName,
  parseHeaderSize,
  parseInterfaceName,
  parseHostname,
  parseInteger,
  parseRunAs,
  parseSeconds,
  parseTrustProxy,
} from './values.js';
import { parseMonster, parseProxyTimeout, parseReverse } from './proxy-spec.js';
import { parseShapeSchedule } from './shape-schedule.js';import { readTokenFile } from './token-file.js';



const SHAPE_SETTINGS: ReadonlyArray<keyof ShapeSettings> = ['shapeBy', 'shapeIpv6Prefix', 'clientIdHeader', 'clientIdLimit', 'shapeTableSize'];

const isQuantity = t.isOneOf([t.isNumber(), t.isString()], { exclusive: true });

const siteShape = {
  path: t.isOptional(t.isString()),
  indexes: t.isOptional(t.isArray(t.isString())),
  mimeType: t.isOptional(t.isString()),
  ignoreExts: t.isOptional(t.isArray(t.isString())),
  allowIgnoreExt: t.isOptional(t.isBoolean()),
  aliases: t.isOptional(
    t.isArray(t.isOneOf([t.isString(), t.isObject({ path: t.isString(), target: t.isOptional(t.isString()) })], { exclusive: true })),
  ),
  userDirs: t.isOptional(
    t.isOneOf([t.isBoolean(), t.isObject({ passwd: t.isOptional(t.isString()), minUid: t.isOptional(t.isNumber()) })], { exclusive: true }),
  ),
  reverse: t.isOptional(t.isOneOf([t.isString(), t.isArray(t.isString())], { exclusive: true })),
};

const isShapeObject = t.isObject({
  serverRate: t.isOptional(isQuantity),
  clientRate: t.isOptional(isQuantity),
  serverBurst: t.isOptional(isQuantity),
  clientBurst: t.isOptional(isQuantity),
});

/**
 * A shape: the --shape string (a plain number too: `shape: 100000`) or an object of its parts.
 * Dispatched on the value's type, so that a mistake inside the object (an unknown part) is named
 * rather than reported as "expected a string".
 */
const isShape = t.isOptional(
  t.makeValidator<unknown, string | number | t.InferType<typeof isShapeObject>>({
    test: (value, state): value is string | number | t.InferType<typeof isShapeObject> =>
      typeof value === 'object' && value !== null && !Array.isArray(value) ? isShapeObject(value, state) : isQuantity(value, state),
  }),
);

const isVhost = t.isObject({ host: t.isString(), ...siteShape, shape: isShape });

const isServer = t.isObject({
  listen: t.isOptional(t.isOneOf([t.isString(), t.isNumber()], { exclusive: true })),
  ...siteShape,
  vhosts: t.isOptional(t.isArray(isVhost)),
  shape: isShape,
  shapeBy: t.isOptional(t.isString()),
  shapeIpv6Prefix: t.isOptional(t.isNumber()),
  clientIdHeader: t.isOptional(t.isString()),
  clientIdLimit: t.isOptional(t.isNumber()),
  shapeTableSize: t.isOptional(t.isNumber()),
  trustProxy: t.isOptional(t.isOneOf([t.isString(), t.isArray(t.isString())], { exclusive: true })),
  bonjour: t.isOptional(t.isOneOf([t.isBoolean(), t.isString(), t.isArray(t.isString())], { exclusive: true })),
  monster: t.isOptional(t.isString()),
  shapeSchedule: t.isOptional(t.isString()),
});

const isConfig = t.isObject({
  workers: t.isOptional(t.isNumber()),
  shutdownTimeout: t.isOptional(t.isNumber()),
  cors: t.isOptional(t.isBoolean()),
  responseTiming: t.isOptional(t.isBoolean()),
  noCache: t.isOptional(t.isBoolean()),
  dotfiles: t.isOptional(t.isBoolean()),
  tracebacks: t.isOptional(t.isBoolean()),
  listings: t.isOptional(t.isBoolean()),
  logfile: t.isOptional(t.isNullable(t.isString())),
  runAs: t.isOptional(t.isString()),
  maxConnections: t.isOptional(t.isNumber()),
  bonjourInterfaces: t.isOptional(t.isArray(t.isString())),
  maxHeaderSize: t.isOptional(t.isOneOf([t.isNumber(), t.isString()], { exclusive: true })),
  proxyTimeout: t.isOptional(t.isNumber()),
  proxyCheckInterval: t.isOptional(t.isNumber()),
  proxyInsecure: t.isOptional(t.isBoolean()),
  admin: t.isOptional(t.isString()),
  adminToken: t.isOptional(t.isString()),
  adminTokenFile: t.isOptional(t.isString()),
  servers: t.isOptional(t.isArray(isServer)),
});

/** The document a config file holds (also what --print-config writes). */
export type ConfigDocument = t.InferType<typeof isConfig>;
type ServerDocument = t.InferType<typeof isServer>;
type SiteDocument = t.InferType<typeof isVhost>;

/** Reads and checks a config file into a draft. Throws ConfigError naming the file and key path. */
export function loadConfigFile(path: string, where = '--config'): Draft {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(ConfigErrorCode.NoSuchPath, where, `cannot read ${path}: ${reason}`);
  }
  const name = basename(path);
  let document: unknown;
  const yaml = /^\.ya?ml$/i.test(extname(path));
  try {
    document = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ConfigError(ConfigErrorCode.BadValue, name, `not valid ${yaml ? 'YAML' : 'JSON'}: ${syntaxMessage(error as Error, text)}`);
  }
  return draftFromDocument(document ?? {}, name, dirname(resolve(path)));
}

/** Checks a parsed document; `name` prefixes key paths, `base` resolves relative paths. */
export function draftFromDocument(document: unknown, name: string, base: string): Draft {
  const errors: string[] = [];
  if (!isConfig(document, { errors })) {
    const [first = 'not a configuration object'] = errors;
    // typanion says ".servers[0].pth: Extraneous property (got "x")": keep the path, soften the rest.
    const match = /^\.?([^:]*): (.*)$/.exec(first);
    const key = match?.[1] || '(top level)';
    throw new ConfigError(ConfigErrorCode.BadValue, `${name}: ${key}`, lowerFirst((match?.[2] ?? first).replace('Extraneous property', 'unknown key')));
  }
  const at = (key: string): string => `${name}: ${key}`;
  const draft = newDraft();
  draft.servers.length = 0;
  const config = document;
  if (config.workers !== undefined) draft.workers = parseInteger(String(config.workers), at('workers'), 1, 256, 'a whole number of threads from 1 to 256');
  if (config.shutdownTimeout !== undefined) draft.graceMs = parseSeconds(String(config.shutdownTimeout), at('shutdownTimeout'));
  if (config.cors !== undefined) draft.cors = config.cors;
  if (config.responseTiming !== undefined) draft.responseTiming = config.responseTiming;
  if (config.noCache !== undefined) draft.noCache = config.noCache;
  if (config.dotfiles !== undefined) draft.dotfiles = config.dotfiles;
  if (config.tracebacks !== undefined) draft.tracebacks = config.tracebacks;
  if (config.listings !== undefined) draft.listings = config.listings;
  if (config.logfile !== undefined) {
    draft.logfile = config.logfile === null || config.logfile === '-' ? config.logfile : resolve(base, checkNonEmpty(config.logfile, at('logfile'), 'a file path or -'));
  }
  if (config.maxConnections !== undefined) {
    draft.maxConnections = parseInteger(String(config.maxConnections), at('maxConnections'), 1, 10_000_000, 'a whole number of connections from 1 to 10000000');
  }
  (config.bonjourInterfaces ?? []).forEach((name, i) => draft.bonjourInterfaces.push(parseInterfaceName(name, at(`bonjourInterfaces[${i}]`))));
  if (config.maxHeaderSize !== undefined) draft.maxHeaderBytes = parseHeaderSize(String(config.maxHeaderSize), at('maxHeaderSize'));
  if (config.runAs !== undefined) draft.runAs = parseRunAs(config.runAs, at('runAs'));
  if (config.proxyTimeout !== undefined) draft.proxyTimeoutMs = parseProxyTimeout(String(config.proxyTimeout), at('proxyTimeout'));
  if (config.proxyCheckInterval !== undefined) draft.proxyCheckMs = parseSeconds(String(config.proxyCheckInterval), at('proxyCheckInterval'));
  if (config.proxyInsecure !== undefined) draft.proxyInsecure = config.proxyInsecure;
  if (config.admin !== undefined) draft.admin = absoluteListenPaths(parseStrport(config.admin, at('admin')), base);
  if (config.adminToken !== undefined) draft.adminToken = parseAdminToken(config.adminToken, at('adminToken'));
  if (config.adminTokenFile !== undefined) {
    const path = resolve(base, checkNonEmpty(config.adminTokenFile, at('adminTokenFile'), 'a file path'));
    draft.adminToken = readTokenFile(path, at('adminTokenFile'));
    draft.adminTokenFile = path;
  }
  if (config.servers?.length === 0) {
    throw new ConfigError(ConfigErrorCode.BadValue, at('servers'), 'is empty: nothing would listen (give at least one server, e.g. servers: [{ listen: 8080 }])');
  }
  (config.servers ?? [{}]).forEach((server, i) => draft.servers.push(serverDraft(server, `servers[${i}]`, at, base)));
  return draft;
}

function serverDraft(server: ServerDocument, key: string, at: (key: string) => string, base: string): ServerDraft {
  const draft = newServerDraft(at(key), true);
  if (server.listen !== undefined) {
    const where = at(`${key}.listen`);
    draft.listen = { value: absoluteListenPaths(parseStrport(String(server.listen), where), base), where };
  }
  fillSite(draft.site, server, key, at, base);
  (server.vhosts ?? []).forEach((vhost, i) => {
    const vkey = `${key}.vhosts[${i}]`;
    const site = newSiteDraft();
    fillSite(site, vhost, vkey, at, base);
    const shape = vhost.shape === undefined ? {} : { shape: shapeDraft(vhost.shape, at(`${vkey}.shape`)) };
    draft.vhosts.push({ ...site, ...shape, hostname: { value: parseHostname(vhost.host, at(`${vkey}.host`)), where: at(`${vkey}.host`) }, fromFile: true });
  });
  if (server.shape !== undefined) draft.shape = shapeDraft(server.shape, at(`${key}.shape`));
  if (server.shapeSchedule !== undefined) {
    const where = at(`${key}.shapeSchedule`);
    draft.shapeSchedule = { value: parseShapeSchedule(server.shapeSchedule, where, base), where };
  }
  if (server.monster !== undefined) draft.monster = { value: parseMonster(server.monster, at(`${key}.monster`)), where: at(`${key}.monster`) };
  if (server.bonjour !== undefined) {
    const where = at(`${key}.bonjour`);
    const names = server.bonjour === true ? ['-'] : server.bonjour === false ? [] : typeof server.bonjour === 'string' ? [server.bonjour] : server.bonjour;
    names.forEach((name, i) => draft.bonjour.push(parseBonjourName(name, Array.isArray(server.bonjour) ? `${where}[${i}]` : where)));
  }
  if (server.trustProxy !== undefined) {
    const where = at(`${key}.trustProxy`);
    const list = typeof server.trustProxy === 'string' ? [server.trustProxy] : server.trustProxy;
    draft.trustProxy = { value: list.flatMap((entry, i) => parseTrustProxy(entry, typeof server.trustProxy === 'string' ? where : `${where}[${i}]`)), where };
  }
  for (const setting of SHAPE_SETTINGS) {
    const value = server[setting];
    if (value !== undefined) setShapeSetting(draft, setting, String(value), at(`${key}.${setting}`), setting);
  }
  return draft;
}

function shapeDraft(shape: NonNullable<ServerDocument['shape']>, where: string): Sourced<ShapeLimits> {
  const value =
    typeof shape === 'string' || typeof shape === 'number'
      ? parseShapeSpec(String(shape), where)
      : shapeFromParts(Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, String(v)])) as ShapeParts, where, (part) => part);
  return { value, where };
}

function fillSite(site: SiteDraft, doc: Omit<SiteDocument, 'host'>, key: string, at: (key: string) => string, base: string): void {
  if (doc.path !== undefined) {
    const where = at(`${key}.path`);
    site.root = { value: resolve(base, checkNonEmpty(doc.path, where, 'a directory or file path')), where };
  }
  if (doc.indexes !== undefined) site.indexes = doc.indexes.map((name, i) => checkFileName(name, at(`${key}.indexes[${i}]`)));
  if (doc.mimeType !== undefined) site.defaultType = checkMimeType(doc.mimeType, at(`${key}.mimeType`));
  (doc.ignoreExts ?? []).forEach((ext, i) => site.ignoreExts.push(checkExtension(ext, at(`${key}.ignoreExts[${i}]`))));
  if (doc.allowIgnoreExt) site.ignoreExts.push('*');
  (doc.aliases ?? []).forEach((alias, i) => {
    const text = typeof alias === 'string' ? alias : `${alias.path},${alias.target ?? ''}`;
    const where = at(`${key}.aliases[${i}]`);
    site.aliases.push({ value: parseAlias(text, where), where });
  });
  if (doc.reverse !== undefined) {
    const list = typeof doc.reverse === 'string' ? [doc.reverse] : doc.reverse;
    list.forEach((text, i) => {
      const where = at(typeof doc.reverse === 'string' ? `${key}.reverse` : `${key}.reverse[${i}]`);
      site.proxies.push({ value: parseReverse(text, where), where });
    });
  }
  if (doc.userDirs === true) site.userDirs = DEFAULT_PASSWD_FILE;
  else if (typeof doc.userDirs === 'object') {
    site.userDirs = doc.userDirs.passwd === undefined ? DEFAULT_PASSWD_FILE : resolve(base, doc.userDirs.passwd);
    if (doc.userDirs.minUid !== undefined) {
      const where = at(`${key}.userDirs.minUid`);
      site.userMinUid = { value: parseInteger(String(doc.userDirs.minUid), where, 1, 4294967295, 'a uid from 1 (root is never served)'), where };
    }
  }
}

/**
 * The first line of a parser's message, with its place as line and column: JSON.parse counts
 * characters ("at position 50"), and yaml ends its first line with a colon before a code frame.
 */
function syntaxMessage(error: Error, text: string): string {
  const first = error.message.split('\n')[0]!.replace(/:\s*$/, '');
  if (/ at line \d+, column \d+$/.test(first)) return first;
  const position = /^(.*?)(?: in JSON)? at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(first);
  if (position) return `${position[1]} ${lineAndColumn(text, Number(position[2]))}`;
  // V8 says "Unexpected token 'x', ...CONTEXT... is not valid JSON" without a position: the
  // context it quotes (a few characters around the bad token) tells where, to a line.
  const token = /^(Unexpected token '.*?'), (?:\.\.\.)?"([^]*?)"(?:\.\.\.)? is not valid JSON$/.exec(error.message);
  const at = token ? text.indexOf(token[2]!.slice(0, 40)) : -1;
  if (token && at >= 0) return `${token[1]} near line ${text.slice(0, at + 10).split('\n').length}`;
  return first;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  return `at line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
