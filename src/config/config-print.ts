/**
 * The effective plan as a config file (`--print-config`): every default spelled out, paths
 * absolute, limits in bytes. Loading the printed document gives the same plan back, so a long
 * command line can move into a file.
 */
import type { ConfigDocument } from './config-file.js';
import type { AliasPlan, ListenSpec, Plan, ServerPlan, ShapePlan, SitePlan, UpstreamPlan } from './plan.js';
import { describeReverse } from './proxy-spec.js';

export function planToDocument(plan: Plan): ConfigDocument {
  return {
    workers: plan.workers,
    shutdownTimeout: plan.shutdownGraceMs / 1000,
    cors: plan.http.cors,
    noCache: plan.http.noCache,
    dotfiles: plan.http.dotfiles,
    tracebacks: plan.http.tracebacks,
    listings: plan.http.listings,
    logfile: plan.logfile,
    responseTiming: plan.responseTiming,
    ...(plan.maxConnections === null ? {} : { maxConnections: plan.maxConnections }),
    maxHeaderSize: plan.maxHeaderBytes,
    ...(plan.bonjourInterfaces.length > 0 ? { bonjourInterfaces: [...plan.bonjourInterfaces] } : {}),
    ...(plan.runAs ? { runAs: plan.runAs.group === undefined ? plan.runAs.user : `${plan.runAs.user}:${plan.runAs.group}` } : {}),
    proxyTimeout: plan.proxy.timeoutMs / 1000,
    proxyCheckInterval: plan.proxy.checkIntervalMs / 1000,
    proxyInsecure: plan.proxy.insecure,
    ...(plan.admin
      ? {
          admin: listenDescription(plan.admin.listen),
          ...(plan.admin.tokenFile !== null ? { adminTokenFile: plan.admin.tokenFile } : plan.admin.token === null ? {} : { adminToken: plan.admin.token }),
        }
      : {}),
    servers: plan.servers.map((server) => serverDocument(server, plan.upstreams)),
  };
}

function serverDocument(server: ServerPlan, upstreams: readonly UpstreamPlan[]): NonNullable<ConfigDocument['servers']>[number] {
  const siteDocument = (site: SitePlan) => ({
    ...siteFields(site),
    ...(site.proxies.length > 0 ? { reverse: site.proxies.map((proxy) => describeReverse(upstreams[proxy.upstream]!, proxy.mount)) } : {}),
  });
  // The companions are the server's, whether it or only its virtual hosts have limits.
  const shape = server.shape ?? server.vhosts.find((vhost) => vhost.shape)?.shape ?? null;
  return {
    listen: listenDescription(server.listen),
    ...siteDocument(server.site),
    vhosts: server.vhosts.map((vhost) => ({ host: vhost.hostname, ...siteDocument(vhost), ...(vhost.shape ? { shape: limitsDocument(vhost.shape) } : {}) })),
    ...(server.trustProxy.length > 0 ? { trustProxy: [...server.trustProxy] } : {}),
    ...(server.bonjour.length > 0 ? { bonjour: [...server.bonjour] } : {}),
    ...(server.monster === null ? {} : { monster: server.monster.slice(1) }),
    ...(server.shapeSchedule === null ? {} : { shapeSchedule: server.shapeSchedule.spec }),
    ...(shape
      ? {
          ...(server.shape ? { shape: limitsDocument(server.shape) } : {}),
          shapeBy: shape.by,
          shapeIpv6Prefix: shape.ipv6PrefixBits,
          ...(shape.clientIdHeader ? { clientIdHeader: shape.clientIdHeader, clientIdLimit: shape.clientIdLimit } : {}),
          shapeTableSize: shape.tableSize,
        }
      : {}),
  };
}

function limitsDocument(shape: ShapePlan) {
  return {
    serverRate: shape.limits.server.rate,
    clientRate: shape.limits.client.rate,
    serverBurst: shape.limits.server.burst,
    clientBurst: shape.limits.client.burst,
  };
}

function siteFields(site: SitePlan) {
  const anyExt = site.ignoreExts.includes('*');
  return {
    path: site.root,
    indexes: [...site.indexes],
    mimeType: site.defaultType,
    ignoreExts: site.ignoreExts.filter((ext) => ext !== '*').map((ext) => `.${ext}`),
    ...(anyExt ? { allowIgnoreExt: true } : {}),
    aliases: site.aliases.map(aliasDocument),
    ...(site.userDirs ? { userDirs: { passwd: site.userDirs.passwd, minUid: site.userDirs.minUid } } : {}),
  };
}

function aliasDocument(alias: AliasPlan): { path: string; target: string } {
  return { path: alias.from.join('/'), target: alias.to.join('/') };
}

/** A strports description that parses back to the same spec (colons escaped). */
export function listenDescription(listen: ListenSpec): string {
  const esc = (value: string): string => value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
  switch (listen.kind) {
    case 'tcp':
      return `tcp:${listen.port}${listen.host === undefined ? '' : `:interface=${esc(listen.host)}`}`;
    case 'ssl':
      return (
        `ssl:${listen.port}:privateKey=${esc(listen.privateKey)}:certKey=${esc(listen.certKey)}` +
        (listen.dhParameters ? `:dhParameters=${esc(listen.dhParameters)}` : '') +
        (listen.host === undefined ? '' : `:interface=${esc(listen.host)}`)
      );
    case 'unix':
      return `unix:${esc(listen.path)}:mode=${listen.mode.toString(8).padStart(3, '0')}`;
  }
}
