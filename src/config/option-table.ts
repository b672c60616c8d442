/**
 * Every `serve` option, in one table: names, whether it takes a value, what it applies to and its
 * help text (each with an example). The clipanion command registers these; the argv-order
 * resolver applies them in the order they were given.
 */

/**
 * What an option configures. `server`: the server declared most recently (`-h` starts a new one).
 * `site`: the vhost declared most recently on that server, else the server's default root.
 * `main`: always the first server (the seed's `-p`). `global`: the whole process (or, for `-h`,
 * the choice of the current server).
 */
export type OptionScope = 'global' | 'main' | 'server' | 'site';

/** The sections of --help and of the manual page, in order. */
export const OPTION_GROUPS = {
  servers: 'Servers, sites and paths',
  shaping: 'Bandwidth shaping',
  proxy: 'Reverse proxy and vhost monster',
  control: 'Control plane',
  responses: 'Responses',
  process: 'Logging and the process',
  config: 'Configuration files',
} as const;

export interface OptionSpec {
  /** Clipanion names, short first; the last one is the canonical long name. */
  readonly names: readonly string[];
  readonly takesValue: boolean;
  /** How the value is shown in the usage (`PORT`, `LIMITS`), for options that take one. */
  readonly valueName?: string;
  readonly group: keyof typeof OPTION_GROUPS;
  readonly scope: OptionScope;
  readonly description: string;
}

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  {
    names: ['--config'],
    takesValue: true,
    valueName: 'FILE',
    group: 'config',
    scope: 'global',
    description:
      'Read servers, virtual hosts and options from a JSON or YAML file; command-line options then extend or ' +
      'override it. Example: `--config mediacast.yaml`',
  },
  {
    names: ['--print-config'],
    takesValue: false,
    group: 'config',
    scope: 'global',
    description: 'Print the effective configuration as a config file (JSON) and exit. Example: `--print-config > mediacast.json`',
  },
  {
    names: ['-h', '--host'],
    takesValue: true,
    valueName: 'PORT',
    group: 'servers',
    scope: 'global',
    description:
      'Start an additional server on this TCP port (a plain number, as in the original server); the options after it apply to ' +
      'it. Example: `-h 8081 --path ./other`',
  },
  {
    names: ['-v', '--vhost'],
    takesValue: true,
    valueName: 'NAME',
    group: 'servers',
    scope: 'server',
    description:
      'Add a name-based virtual host to the current server; the site options after it (--path, --index, --alias, ' +
      '--mime-type, --ignore-ext, --allow-ignore-ext, --user) apply to it. Example: `-v one.local --path ./one`',
  },
  {
    names: ['-p', '--port'],
    takesValue: true,
    valueName: 'DESC',
    group: 'servers',
    scope: 'main',
    description:
      'strports description of where the first server listens (default tcp:8080). Examples: `-p 8080`, ' +
      '`-p tcp:8080:interface=127.0.0.1`, `-p ssl:8443:privateKey=key.pem:certKey=cert.pem`, `-p unix:/run/media.sock`',
  },
  {
    names: ['--path'],
    takesValue: true,
    valueName: 'PATH',
    group: 'servers',
    scope: 'site',
    description: 'Directory (or single file) to serve (default: the current directory). Example: `--path ./media`',
  },
  {
    names: ['-i', '--index'],
    takesValue: true,
    valueName: 'NAME',
    group: 'servers',
    scope: 'site',
    description:
      'Index file name tried for directory requests; repeat for more, tried in order (default: index, index.html). ' +
      'Example: `-i index.html -i index.m3u8`',
  },
  {
    names: ['-m', '--mime-type'],
    takesValue: true,
    valueName: 'TYPE',
    group: 'servers',
    scope: 'site',
    description:
      'Content-Type for files with no known extension, e.g. HDS fragments (default application/octet-stream). ' +
      'Example: `--mime-type video/f4f`',
  },
  {
    names: ['-a', '--alias'],
    takesValue: true,
    valueName: 'VIRTUAL[,REAL]',
    group: 'servers',
    scope: 'site',
    description:
      'Serve requests under /virtual/path from /real/path of the same root (an empty real path: the root itself); ' +
      'repeat for more. Example: `-a media,videos`',
  },
  {
    names: ['-u', '--user'],
    takesValue: false,
    group: 'servers',
    scope: 'site',
    description: 'Serve /~name/... from the public_html directory of system user name. Example: `-u`',
  },
  {
    names: ['--user-min-uid'],
    takesValue: true,
    valueName: 'UID',
    group: 'servers',
    scope: 'site',
    description:
      'With -u: serve only accounts with at least this uid (default 1000; root and nobody never). Example: `--user-min-uid 500`',
  },
  {
    names: ['--ignore-ext'],
    takesValue: true,
    valueName: 'EXT',
    group: 'servers',
    scope: 'site',
    description:
      'Let a request for `foo` serve `foo.EXT`; repeat for more, tried in order. Example: `--ignore-ext .m3u8`',
  },
  {
    names: ['--allow-ignore-ext'],
    takesValue: false,
    group: 'servers',
    scope: 'site',
    description: 'Let a request for `foo` serve `foo.<any extension>`. Example: `--allow-ignore-ext`',
  },
  {
    names: ['--reverse'],
    takesValue: true,
    valueName: 'HOST[,PORT[,PATH[,MOUNT]]]',
    group: 'proxy',
    scope: 'site',
    description:
      'Proxy the current server or virtual host to http://HOST:PORT/PATH (port default 80, path default empty); ' +
      'with MOUNT only /MOUNT/... is proxied and the rest is served as before. HOST may be a URL ' +
      '(http or https, then leave PORT and PATH empty); repeat for more mounts. Bodies are shaped like files. ' +
      'Example: `--reverse https://cdn.example.com/vod,,,cdn`',
  },
  {
    names: ['--monster'],
    takesValue: true,
    valueName: 'PATH',
    group: 'proxy',
    scope: 'server',
    description:
      'Vhost monster: /PATH/http/HOST[:PORT]/rest (or /PATH/https/...) is served as /rest of the virtual host HOST, ' +
      'and redirects name http(s)://HOST:PORT, for use behind another reverse proxy. Example: `--monster vhm`',
  },
  {
    names: ['--proxy-timeout'],
    takesValue: true,
    valueName: 'SECONDS',
    group: 'proxy',
    scope: 'global',
    description: 'An upstream that sends no response headers within this time gets the client a 504 (default 30). Example: `--proxy-timeout 10`',
  },
  {
    names: ['--proxy-check-interval'],
    takesValue: true,
    valueName: 'SECONDS',
    group: 'proxy',
    scope: 'global',
    description:
      'How often each upstream is checked for accepting connections (default 5; 0: never); while one is down ' +
      'its requests get a 502 at once. Example: `--proxy-check-interval 2`',
  },
  {
    names: ['--admin'],
    takesValue: true,
    valueName: 'DESC',
    group: 'control',
    scope: 'global',
    description:
      'Start the control plane (a JSON API to change limits at runtime; off by default) on this strports address; ' +
      'beyond loopback it needs --admin-token. Example: `--admin tcp:9090:interface=127.0.0.1`',
  },
  {
    names: ['--admin-token'],
    takesValue: true,
    valueName: 'TOKEN',
    group: 'control',
    scope: 'global',
    description: 'Every control-plane request must carry `Authorization: Bearer TOKEN`. Example: `--admin-token s3cret`',
  },
  {
    names: ['--admin-token-file'],
    takesValue: true,
    valueName: 'PATH',
    group: 'control',
    scope: 'global',
    description:
      'The --admin-token read from the first line of this file, so that it is on no command line and in no --print-config ' +
      'output. Example: `--admin-token-file /etc/mediacast/admin-token`',
  },
  {
    names: ['--proxy-insecure'],
    takesValue: false,
    group: 'proxy',
    scope: 'global',
    description: 'Accept any certificate from https upstreams (test origins with self-signed certificates). Example: `--proxy-insecure`',
  },
  {
    names: ['-s', '--shape'],
    takesValue: true,
    valueName: 'LIMITS',
    group: 'shaping',
    scope: 'server',
    description:
      'Bandwidth limits of the current server, or after -v of that virtual host (inside its server\'s limits): ' +
      'server-rate[,client-rate[,server-burst[,client-burst]]]. Rates in bytes/s ' +
      '(plain number) or with a unit (500kB, 1.5MiB, 4Mbit); bursts in bytes, default one second of their rate; ' +
      '0 or - means no limit at that level. Examples: `--shape 40Mbit,4Mbit`, `--shape 2000000,250000,4000000,500000`',
  },
  {
    names: ['--shape-schedule'],
    takesValue: true,
    valueName: '[per-client:][once:]SCHEDULE',
    group: 'shaping',
    scope: 'server',
    description:
      'A rate schedule the current server starts with: a trace file (mahimahi, `time_s Mbit/s` or Sabre JSON) or steps ' +
      '(0s:4Mbit,30s:1Mbit,60s~4Mbit; `~` ramps). It drives the server-wide limit from startup, or with `per-client:` ' +
      'each client\'s limit from that client\'s first request; it loops unless `once:`. Needs --shape. ' +
      'Example: `--shape 100MB,4Mbit --shape-schedule per-client:traces/lte.down`',
  },
  {
    names: ['--shape-by'],
    takesValue: true,
    valueName: 'ip|connection',
    group: 'shaping',
    scope: 'server',
    description:
      'What a client is for --shape: `ip` (all connections of an address share one bucket, the default) or ' +
      '`connection` (a bucket per response, as nginx limit_rate). Example: `--shape-by connection`',
  },
  {
    names: ['--shape-ipv6-prefix'],
    takesValue: true,
    valueName: 'BITS',
    group: 'shaping',
    scope: 'server',
    description: 'Group IPv6 clients by this prefix length for --shape (default 128: each address). Example: `--shape-ipv6-prefix 64`',
  },
  {
    names: ['--client-id-header'],
    takesValue: true,
    valueName: 'HEADER',
    group: 'shaping',
    scope: 'server',
    description:
      'Key client buckets by this request header instead of the address, for rigs simulating many viewers from ' +
      'one host; honoured only from --trust-proxy peers. Example: `--client-id-header X-Viewer-Id --trust-proxy loopback`',
  },
  {
    names: ['--client-id-limit'],
    takesValue: true,
    valueName: 'N',
    group: 'shaping',
    scope: 'server',
    description:
      'Distinct --client-id-header values one client address may hold at once, per worker (default 1024); ' +
      'beyond it its requests share that address\'s bucket. Example: `--client-id-limit 5000`',
  },
  {
    names: ['--trust-proxy'],
    takesValue: true,
    valueName: 'LIST',
    group: 'shaping',
    scope: 'server',
    description:
      'Peers allowed to name the real client (X-Forwarded-For, for per-IP shaping and the access log) and to set ' +
      '--client-id-header: addresses, CIDRs, loopback, private, linklocal or unix (socket peers); comma-separated ' +
      'or repeated. Example: `--trust-proxy 10.0.0.0/8,loopback`',
  },
  {
    names: ['--shape-table-size'],
    takesValue: true,
    valueName: 'N',
    group: 'shaping',
    scope: 'server',
    description:
      'Client buckets kept per server (a power of two, default 65536); beyond it new clients share one overflow ' +
      'bucket. Example: `--shape-table-size 262144`',
  },
  {
    names: ['--bonjour'],
    takesValue: true,
    valueName: 'NAME',
    group: 'servers',
    scope: 'server',
    description:
      'Advertise the current server by Bonjour/mDNS (_http._tcp, _https._tcp for ssl) under this name; %s is the ' +
      'computer name, %d the port, - the default name "Mediacast-Webserver (%s on port %d)"; repeat for more ' +
      'names. Off unless given. Example: `--bonjour -` or `--bonjour "Lab rig on %d"`',
  },
  {
    names: ['--no-bonjour'],
    takesValue: false,
    group: 'servers',
    scope: 'server',
    description: 'Do not advertise the current server (drops names a config file gave it). Example: `--no-bonjour`',
  },
  {
    names: ['--bonjour-interface'],
    takesValue: true,
    valueName: 'NAME',
    group: 'servers',
    scope: 'global',
    description:
      'Advertise only on this network interface; repeat for more (default: every interface with a routable ' +
      'address; loopback and link-local-only ones never). Example: `--bonjour-interface eth0`',
  },
  {
    names: ['--cors'],
    takesValue: false,
    group: 'responses',
    scope: 'global',
    description:
      'CORS for browser players on other origins: `Access-Control-Allow-Origin: *` on every response (errors ' +
      'included), exposed Content-Length/Content-Range/Accept-Ranges/ETag, preflights allowing Range. Example: `--cors`',
  },
  {
    names: ['--no-cache'],
    takesValue: false,
    group: 'responses',
    scope: 'global',
    description:
      'Bandwidth-test mode: `Cache-Control: no-store` on everything and never a 304, so every request is a real ' +
      'transfer. Example: `--no-cache`',
  },
  {
    names: ['--dotfiles'],
    takesValue: false,
    group: 'responses',
    scope: 'global',
    description: 'Serve and list files and directories whose name starts with a dot (hidden by default). Example: `--dotfiles`',
  },
  {
    names: ['--no-listing'],
    takesValue: false,
    group: 'responses',
    scope: 'global',
    description: 'Answer 403 for directories without an index file instead of generating a listing. Example: `--no-listing`',
  },
  {
    names: ['-n', '--notracebacks'],
    takesValue: false,
    group: 'responses',
    scope: 'global',
    description: 'Accepted for compatibility: error detail is hidden by default. Example: `-n`',
  },
  {
    names: ['--tracebacks'],
    takesValue: false,
    group: 'responses',
    scope: 'global',
    description: 'Show error detail (stack traces) in 500 pages, for debugging. Example: `--tracebacks`',
  },
  {
    names: ['-l', '--logfile'],
    takesValue: true,
    valueName: 'PATH',
    group: 'process',
    scope: 'global',
    description:
      'Access log in Combined Log Format, one line per response (aborted ones too); reopened on SIGHUP; `-` for ' +
      'standard output. Example: `-l /var/log/mediacast/access.log`',
  },
  {
    names: ['--response-timing'],
    takesValue: false,
    group: 'process',
    scope: 'global',
    description:
      'Add `rt=SECONDS rate=B/s limit=B/s` after the Combined Log Format fields: the response time, the rate it got ' +
      'and the limit in force at its end (`-` when unshaped); combined-log parsers read the line as before. Example: `--response-timing`',
  },
  {
    names: ['--max-header-size'],
    takesValue: true,
    valueName: 'SIZE',
    group: 'process',
    scope: 'global',
    description:
      'Largest request line plus headers accepted (default 16KiB; larger requests get 431). Signed media URLs and ' +
      'cookies can be long. Example: `--max-header-size 64KiB`',
  },
  {
    names: ['--max-connections'],
    takesValue: true,
    valueName: 'N',
    group: 'process',
    scope: 'global',
    description:
      'Connections open at once, all servers together; more are closed on arrival (default: what the descriptor ' +
      'limit, ulimit -n, holds at two descriptors per connection). Example: `--max-connections 20000`',
  },
  {
    names: ['--run-as'],
    takesValue: true,
    valueName: 'USER[:GROUP]',
    group: 'process',
    scope: 'global',
    description:
      'When started as root: switch to this account once every port is open, so files are read with its ' +
      'permissions (as nginx\'s `user`). Example: `--run-as www-data` or `--run-as 33:33`',
  },
  {
    names: ['--workers'],
    takesValue: true,
    valueName: 'N',
    group: 'process',
    scope: 'global',
    description: 'Number of worker threads serving sockets (default: one per CPU). Example: `--workers 4`',
  },
  {
    names: ['--shutdown-timeout'],
    takesValue: true,
    valueName: 'SECONDS',
    group: 'process',
    scope: 'global',
    description:
      'Seconds in-flight responses may run after SIGINT/SIGTERM before they are cut (default 10). ' +
      'Example: `--shutdown-timeout 30`',
  },
];

/** The canonical (long) name of an option. */
export function canonicalName(spec: OptionSpec): string {
  return spec.names[spec.names.length - 1]!;
}

/** Looks an option up by any of its names. */
export function findOption(name: string): OptionSpec | undefined {
  return SERVE_OPTIONS.find((spec) => spec.names.includes(name));
}
