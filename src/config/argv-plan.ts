/**
 * Applies the options of a `serve` command line, in the order given, to a draft. As in the seed,
 * each option applies to the server or virtual host declared most recently before it: `-h PORT`
 * starts another server, `-v NAME` a virtual host of the current server.
 *
 * On top of a config file: scalar options override what the file says, list options (`-i`,
 * `--ignore-ext`, `-a`) extend it; `-h PORT` and `-v NAME` select the file's server on that port
 * or the file's virtual host of that name when there is one, and declare a new one otherwise.
 */
import { resolve } from 'node:path';
import {
  buildPlan,
  newDraft,
  newServerDraft,
  newSiteDraft,
  setShapeSetting,
  type BuildEnv,
  type Draft,
  type ServerDraft,
  type ShapeSettings,
  type SiteDraft,
  type VhostDraft,
} from './draft.js';
import { ConfigError, ConfigErrorCode } from './errors.js';
import { canonicalName, findOption } from './option-table.js';
import { DEFAULT_PASSWD_FILE, type ListenSpec, type Plan } from './plan.js';
import { parseShapeSpec } from './shape-spec.js';
import { absoluteListenPaths, parseStrport } from './strport.js';
import {
  checkExtension,
  checkFileName,
  checkMimeType,
  checkNonEmpty,
  parseAlias,
  parseBonjourName,
  parseInterfaceName,
  parseHeaderSize,
  parseHostname,
  parseInteger,
  parseAdminToken,
  parseRunAs,
  parseSeconds,
  parseTrustProxy,
} from './values.js';
import { parseMonster, parseProxyTimeout, parseReverse } from './proxy-spec.js';
import { parseShapeSchedule } from './shape-schedule.js';import { readTokenFile } from './token-file.js';



/** One option occurrence as the command-line parser saw it. */
export interface GivenOption {
  readonly name: string;
  readonly value: string | boolean;
}

/** Options the command itself handles before the draft is built. */
export const COMMAND_OPTIONS: ReadonlySet<string> = new Set(['--config', '--print-config']);

/** Where options land while the command line is read. */
interface Cursor {
  server: ServerDraft;
  vhost: VhostDraft | null;
  /** Where -p was given on this command line (it may override a config file, once). */
  portWhere: string | null;
}

/** Options that set one value of a server or virtual host: given twice for one of them is a mistake. */
const ONCE_PER_SCOPE: ReadonlySet<string> = new Set(['--path', '--shape', '--mime-type', '--monster', '--shape-schedule']);

/** Applies ordered options to `draft` (relative paths against `cwd`). Throws ConfigError. */
export function applyArgv(draft: Draft, options: readonly GivenOption[], cwd: string): void {
  const cursor: Cursor = { server: draft.servers[0]!, vhost: null, portWhere: null };
  // Per server or virtual host: where each once-only option was given on this command line.
  const givenIn = new WeakMap<object, Map<string, string>>();
  options.forEach((given, index) => {
    const spec = findOption(given.name);
    if (!spec) throw new ConfigError(ConfigErrorCode.Syntax, given.name, 'unknown option');
    const name = canonicalName(spec);
    if (COMMAND_OPTIONS.has(name)) return;
    const where = `${given.name} (option ${index + 1})`;
    const value = typeof given.value === 'string' ? given.value : '';
    if (ONCE_PER_SCOPE.has(name)) {
      // --monster and --shape-schedule belong to the server even when given after -v.
      const scope: object = name === '--monster' || name === '--shape-schedule' ? cursor.server : (cursor.vhost ?? cursor.server);
      const seen = givenIn.get(scope) ?? new Map<string, string>();
      givenIn.set(scope, seen);
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        const what = cursor.vhost && scope === cursor.vhost ? `virtual host ${cursor.vhost.hostname.value}` : cursor.server.origin;
        throw new ConfigError(ConfigErrorCode.Conflict, where, `${what} already has ${earlier} (each server or -v host takes it once)`);
      }
      seen.set(name, where);
    }
    if (applyGlobal(draft, cursor, name, given, value, where, cwd)) return;
    if (name === '--shape-schedule') {
      cursor.server.shapeSchedule = { value: parseShapeSchedule(value, where, cwd), where };
      return;
    }
    if (applyServer(cursor, name, value, where)) return;
    applySite(cursor.vhost ?? cursor.server.site, name, given, value, where, cwd);
  });
}

/** Convenience for a command line without a config file. */
export function resolveArgv(options: readonly GivenOption[], env: BuildEnv): Plan {
  const draft = newDraft();
  applyArgv(draft, options, env.cwd);
  return buildPlan(draft, env);
}

function applyGlobal(draft: Draft, cursor: Cursor, name: string, given: GivenOption, value: string, where: string, cwd: string): boolean {
  switch (name) {
    case '--port': {
      if (cursor.portWhere !== null) {
        throw new ConfigError(ConfigErrorCode.Conflict, where, `the first server's port is already set by ${cursor.portWhere}`);
      }
      cursor.portWhere = where;
      draft.servers[0]!.listen = { value: absoluteListenPaths(parseStrport(value, where), cwd), where };
      return true;
    }
    case '--host': {
      const port = parseInteger(value, where, 1, 65535, 'a port number from 1 to 65535');
      const fromFile = draft.servers.find((s) => s.fromFile && s.listen?.value.kind !== 'unix' && listenPort(s.listen?.value) === port);
      if (fromFile) {
        cursor.server = fromFile;
      } else {
        // "-h 8081 (option 5)": messages about this server name its port.
        const declared = `${given.name} ${value} ${where.slice(given.name.length + 1)}`;
        const server = newServerDraft(declared);
        server.listen = { value: { kind: 'tcp', port }, where: declared };
        draft.servers.push(server);
        cursor.server = server;
      }
      cursor.vhost = null;
      return true;
    }
    case '--logfile':
      draft.logfile = value === '-' ? '-' : resolve(cwd, checkNonEmpty(value, where, 'a file path or -'));
      return true;
    case '--response-timing':
      draft.responseTiming = given.value === true;
      return true;
    case '--cors':
      draft.cors = given.value === true;
      return true;
    case '--no-cache':
      draft.noCache = given.value === true;
      return true;
    case '--dotfiles':
      draft.dotfiles = given.value === true;
      return true;
    case '--notracebacks':
      if (given.value === true) draft.tracebacks = false;
      return true;
    case '--tracebacks':
      draft.tracebacks = given.value === true;
      return true;
    case '--no-listing':
      if (given.value === true) draft.listings = false;
      return true;
    case '--workers':
      draft.workers = parseInteger(value, where, 1, 256, 'a whole number of threads from 1 to 256');
      return true;
    case '--shutdown-timeout':
      draft.graceMs = parseSeconds(value, where);
      return true;
    case '--bonjour-interface':
      draft.bonjourInterfaces.push(parseInterfaceName(value, where));
      return true;
    case '--max-header-size':
      draft.maxHeaderBytes = parseHeaderSize(value, where);
      return true;
    case '--max-connections':
      draft.maxConnections = parseInteger(value, where, 1, 10_000_000, 'a whole number of connections from 1 to 10000000');
      return true;
    case '--run-as':
      draft.runAs = parseRunAs(value, where);
      return true;
    case '--proxy-timeout':
      draft.proxyTimeoutMs = parseProxyTimeout(value, where);
      return true;
    case '--proxy-check-interval':
      draft.proxyCheckMs = parseSeconds(value, where);
      return true;
    case '--proxy-insecure':
      draft.proxyInsecure = given.value === true;
      return true;
    case '--admin':
      draft.admin = absoluteListenPaths(parseStrport(value, where), cwd);
      return true;
    case '--admin-token-file': {
      const path = resolve(cwd, checkNonEmpty(value, where, 'a file path'));
      draft.adminToken = readTokenFile(path, where);
      draft.adminTokenFile = path;
      return true;
    }
    case '--admin-token':
      draft.adminToken = parseAdminToken(value, where);
      draft.adminTokenFile = undefined;
      return true;
    default:
      return false;
  }
}

function applyServer(cursor: Cursor, name: string, value: string, where: string): boolean {
  const server = cursor.server;
  switch (name) {
    case '--shape':
      // After -v: that virtual host's own limits, inside the server's.
      (cursor.vhost ?? server).shape = { value: parseShapeSpec(value, where), where };
      return true;
    case '--vhost': {
      const hostname = parseHostname(value, where);
      const existing = server.vhosts.find((v) => v.fromFile && v.hostname.value === hostname);
      if (existing) {
        cursor.vhost = existing;
      } else {
        const vhost: VhostDraft = { ...newSiteDraft(), hostname: { value: hostname, where } };
        server.vhosts.push(vhost);
        cursor.vhost = vhost;
      }
      return true;
    }
    case '--bonjour':
      server.bonjour.push(parseBonjourName(value, where));
      return true;
    case '--no-bonjour':
      server.bonjour.length = 0;
      return true;
    case '--monster':
      server.monster = { value: parseMonster(value, where), where };
      return true;
    case '--trust-proxy': {
      const entries = parseTrustProxy(value, where);
      server.trustProxy = { value: [...(server.trustProxy?.value ?? []), ...entries], where: server.trustProxy?.where ?? where };
      return true;
    }
    default: {
      const setting = SHAPE_SETTING_OPTIONS.get(name);
      if (setting === undefined) return false;
      setShapeSetting(server, setting, value, where, name);
      return true;
    }
  }
}

const SHAPE_SETTING_OPTIONS: ReadonlyMap<string, keyof ShapeSettings> = new Map([
  ['--shape-by', 'shapeBy'],
  ['--shape-ipv6-prefix', 'shapeIpv6Prefix'],
  ['--client-id-header', 'clientIdHeader'],
  ['--client-id-limit', 'clientIdLimit'],
  ['--shape-table-size', 'shapeTableSize'],
]);

function applySite(site: SiteDraft, name: string, given: GivenOption, value: string, where: string, cwd: string): void {
  switch (name) {
    case '--path':
      site.root = { value: resolve(cwd, checkNonEmpty(value, where, 'a directory or file path')), where };
      return;
    case '--index':
      (site.indexes ??= []).push(checkFileName(value, where));
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
    case '--alias':
      site.aliases.push({ value: parseAlias(value, where), where });
      return;
    case '--user':
      if (given.value === true) site.userDirs ??= DEFAULT_PASSWD_FILE;
      return;
    case '--reverse':
      site.proxies.push({ value: parseReverse(value, where), where });
      return;
    case '--user-min-uid':
      site.userMinUid = { value: parseInteger(value, where, 1, 4294967295, 'a uid from 1 (root is never served)'), where };
      return;
    default:
      throw new ConfigError(ConfigErrorCode.Syntax, where, 'option is not handled');
  }
}

function listenPort(listen: ListenSpec | undefined): number | undefined {
  return listen === undefined || listen.kind === 'unix' ? undefined : listen.port;
}
