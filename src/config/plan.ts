/**
 * The resolved server plan: pure, validated, frozen data. The coordinator builds it once from the
 * command line (or a config file) and hands it to every worker through `workerData`; nothing
 * downstream reads argv or the environment.
 */

import type { ShapeLimits } from './shape-spec.js';
import type { ShapeSchedulePlan } from './shape-schedule.js';


/** Where a server listens. */
export type ListenSpec =
  | { readonly kind: 'tcp'; readonly port: number; readonly host?: string }
  | {
      readonly kind: 'ssl';
      readonly port: number;
      readonly host?: string;
      /** PEM private key file. */
      readonly privateKey: string;
      /** PEM certificate (chain) file; defaults to the private key file. */
      readonly certKey: string;
      /** PEM Diffie-Hellman parameters file, optional. */
      readonly dhParameters?: string;
    }
  | {
      readonly kind: 'unix';
      readonly path: string;
      /** Permission bits applied to the socket file after it is created (default 0666). */
      readonly mode: number;
    };

/**
 * A path alias (the seed's rewrite): a request whose path starts with the `from` segments is
 * served from the `to` segments of the same root, the rest of the path appended.
 */
export interface AliasPlan {
  readonly from: readonly string[];
  /** Empty: the root itself. */
  readonly to: readonly string[];
}

/** A document root and how files under it are found and typed (a server's default or a vhost). */
export interface SitePlan {
  /** Absolute path of the directory (or single file) served at `/`. */
  readonly root: string;
  readonly rootIsFile: boolean;
  /** Index file names tried in order for a directory request. Default: index, index.html. */
  readonly indexes: readonly string[];
  /** Content-Type for files whose extension has no known type. Default application/octet-stream. */
  readonly defaultType: string;
  /** Extensions tried in order when `foo` does not exist (`foo.EXT`); `*` matches any extension. */
  readonly ignoreExts: readonly string[];
  /** Applied in order to every request path before it is looked up. */
  readonly aliases: readonly AliasPlan[];
  /** `/~name/...` serves `public_html` of the user `name`; or null. */
  readonly userDirs: UserDirsPlan | null;
  /** `--reverse`: paths of this site proxied to an upstream (a leaf, or the whole site). */
  readonly proxies: readonly SiteProxyPlan[];
}

/** Where a site proxies: `mount` is the leaf (`/cdn`), or '' when every request is proxied. */
export interface SiteProxyPlan {
  /** Index in `Plan.upstreams`. */
  readonly upstream: number;
  readonly mount: string;
}

/** An origin server proxied to (one per distinct scheme, host, port and path). */
export interface UpstreamPlan {
  readonly id: number;
  readonly scheme: 'http' | 'https';
  /** Host name or address as given (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** Path prefix on the upstream: '' or `/path/to/proxy` (raw, no trailing slash). */
  readonly path: string;
}

/** How the proxy talks to upstreams. */
export interface ProxyPolicy {
  /** No response headers within this time: 504. */
  readonly timeoutMs: number;
  /** Accept any certificate from https upstreams (test origins with self-signed certificates). */
  readonly insecure: boolean;
  /** How often the coordinator checks that each upstream accepts connections; 0: never. */
  readonly checkIntervalMs: number;
}

/** User directories (`/~name/`). */
export interface UserDirsPlan {
  /** Homes and uids are read from this passwd file. */
  readonly passwd: string;
  /** Accounts below this uid (and root, and the overflow ids) are never served. */
  readonly minUid: number;
}

/** A name-based virtual host of a server. */
export interface VhostPlan extends SitePlan {
  /** Lower-case host name, without trailing dot. */
  readonly hostname: string;
  /** Limits of this virtual host, applied inside its server's (both apply); null when none. */
  readonly shape: ShapePlan | null;
}

/** Bandwidth shaping of one server. */
export interface ShapePlan {
  readonly limits: ShapeLimits;
  /** `ip`: one bucket per client address (or --client-id-header value); `connection`: per response. */
  readonly by: 'ip' | 'connection';
  /** IPv6 clients are grouped by this prefix length (128: each address). */
  readonly ipv6PrefixBits: number;
  /** Lower-case request header whose value keys the client bucket when present, or null. */
  readonly clientIdHeader: string | null;
  /** Distinct client ids one client address may hold at once (per worker); more share its address's bucket. */
  readonly clientIdLimit: number;
  /** Client buckets kept (a power of two). */
  readonly tableSize: number;
}

/** One listening server. */
export interface ServerPlan {
  /** Position of the server in the plan; also its index in shared-memory tables. */
  readonly id: number;
  readonly listen: ListenSpec;
  /** What requests for any other host name get. */
  readonly site: SitePlan;
  readonly vhosts: readonly VhostPlan[];
  /** A schedule of its limits from startup (--shape-schedule), or null. */
  readonly shapeSchedule: ShapeSchedulePlan | null;
  /** Null when nothing is limited. */
  readonly shape: ShapePlan | null;
  /**
   * `--trust-proxy` entries (addresses, CIDRs, `loopback`, `private`, `linklocal`, `unix`): peers
   * whose X-Forwarded-For and client id header are believed. Empty: nobody's.
   */
  readonly trustProxy: readonly string[];
  /**
   * Bonjour/mDNS instance names to advertise this server under (`%s` the computer name, `%d` the
   * port); empty: not advertised.
   */
  readonly bonjour: readonly string[];
  /** `--monster`: the vhost monster path (`/vhm`), or null. */
  readonly monster: string | null;
}

/** Response policy shared by every server. */
export interface HttpPolicy {
  /** Send CORS headers on every response and answer preflights. */
  readonly cors: boolean;
  /** Test mode for bandwidth estimators: `no-store` everywhere and never a 304. */
  readonly noCache: boolean;
  /** Serve and list names starting with a dot. */
  readonly dotfiles: boolean;
  /** Show error detail (stack traces) in 500 pages. */
  readonly tracebacks: boolean;
  /** Directories without an index get a generated listing (else 403). */
  readonly listings: boolean;
}

/** Everything a server process needs to run. */
export interface Plan {
  readonly servers: readonly ServerPlan[];
  readonly http: HttpPolicy;
  /** Number of worker threads serving sockets. */
  readonly workers: number;
  /** How long in-flight responses may run after SIGINT/SIGTERM before they are cut. */
  readonly shutdownGraceMs: number;
  /** Access log file in Combined Log Format, `-` for standard output, or null for none. */
  readonly logfile: string | null;
  /** Access log lines end with the response time, the rate achieved and the limit in force. */
  readonly responseTiming: boolean;
  /**
   * Connections open at once, all servers and workers together; more are closed on arrival. Null
   * in a plan not yet started: the coordinator derives it from the descriptor limit.
   */
  readonly maxConnections: number | null;
  /** Upstreams of every `--reverse`, indexed by SiteProxyPlan.upstream. */
  readonly upstreams: readonly UpstreamPlan[];
  readonly proxy: ProxyPolicy;
  /** Interfaces mDNS advertises on (names); empty: every interface with a usable address. */
  readonly bonjourInterfaces: readonly string[];
  /** Largest request head (request line and headers) accepted; larger ones get 431 from uWS. */
  readonly maxHeaderBytes: number;
  /** The account to switch to once listening (started as root), or null to stay as started. */
  readonly runAs: RunAsPlan | null;
  /** The control plane (`--admin`), or null: off. */
  readonly admin: AdminPlan | null;
}

/** `--admin DESC` and `--admin-token`: the JSON API that changes limits at runtime. */
export interface AdminPlan {
  readonly listen: ListenSpec;
  /** Bearer token every request must carry, or null (loopback only). */
  readonly token: string | null;
  /** The file the token was read from (--admin-token-file): what --print-config shows instead of it. */
  readonly tokenFile: string | null;
}

/** `--run-as USER[:GROUP]`: names or numeric ids. */
export interface RunAsPlan {
  readonly user: string;
  readonly group?: string;
}

export const DEFAULT_INDEXES: readonly string[] = Object.freeze(['index', 'index.html']);
export const DEFAULT_MIME_TYPE = 'application/octet-stream';
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
export const DEFAULT_TABLE_SIZE = 65_536;
export const DEFAULT_CLIENT_ID_LIMIT = 1024;
/** The original's instance name: the computer name and the port. */
export const DEFAULT_BONJOUR_NAME = 'Mediacast-Webserver (%s on port %d)';
/** uWS's own default is 4 KiB: too small for signed media URLs and the cookies that come with them. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_PASSWD_FILE = '/etc/passwd';
export const DEFAULT_USER_MIN_UID = 1000;
export const DEFAULT_PROXY_TIMEOUT_MS = 30_000;
export const DEFAULT_PROXY_CHECK_MS = 5_000;

/** Deep-freezes a plan so no thread can change it after validation. */
export function freezePlan<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) freezePlan((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
