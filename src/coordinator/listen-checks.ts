/**
 * Checks the coordinator makes before any worker listens, so that a taken port, a live unix
 * socket, an unreadable root or a missing certificate is one clear line instead of a worker
 * failure. Also resolves port 0 to a concrete free port every worker can share.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { accessSync, constants, lstatSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection, createServer } from 'node:net';
import { StartupError, StartupErrorCode } from '../config/errors.js';
import type { ListenSpec, ServerPlan, SitePlan } from '../config/plan.js';

/**
 * Binds the address exclusively for a moment: fails when anything else holds it (even a server
 * using SO_REUSEPORT), and turns port 0 into the port the kernel picked.
 */
export function probeTcpPort(spec: Extract<ListenSpec, { kind: 'tcp' | 'ssl' }>): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(listenError(spec, error)));
    probe.listen({ port: spec.port, host: spec.host, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : spec.port;
      probe.close(() => resolvePort(port));
    });
  });
}

function listenError(spec: Extract<ListenSpec, { kind: 'tcp' | 'ssl' }>, error: NodeJS.ErrnoException): StartupError {
  const where = `${spec.host ?? 'all interfaces'} port ${spec.port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new StartupError(StartupErrorCode.PortInUse, `cannot listen on ${where}: the port is already in use`);
    case 'EACCES':
      return new StartupError(
        StartupErrorCode.ListenFailed,
        `cannot listen on ${where}: permission denied (ports below 1024 need privileges; pick a higher port)`,
      );
    case 'EADDRNOTAVAIL':
      return new StartupError(StartupErrorCode.ListenFailed, `cannot listen on ${where}: this machine has no such address`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(StartupErrorCode.ListenFailed, `cannot listen on ${where}: unknown host name`);
    default:
      return new StartupError(StartupErrorCode.ListenFailed, `cannot listen on ${where}: ${error.message}`);
  }
}

/**
 * A unix socket path must be free or hold a dead socket (left by a crashed run); a socket some
 * live server answers on, or any other kind of file, is an error.
 */
export async function checkUnixSocketPath(path: string): Promise<void> {
  const directory = dirname(path);
  try {
    if (!statSync(directory).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(directory, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : 'is not writable';
    throw new StartupError(StartupErrorCode.ListenFailed, `cannot listen on unix:${path}: the directory ${directory} ${why}`);
  }
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) {
    throw new StartupError(StartupErrorCode.ListenFailed, `cannot listen on unix:${path}: a file that is not a socket is in the way`);
  }
  const live = await new Promise<boolean>((resolveLive) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolveLive(true);
    });
    socket.once('error', () => resolveLive(false));
  });
  if (live) throw new StartupError(StartupErrorCode.PortInUse, `cannot listen on unix:${path}: another server is answering on it`);
}

/** The root must be readable (and, for a directory, searchable). */
export function checkSiteReadable(site: SitePlan): void {
  try {
    accessSync(site.root, site.rootIsFile ? constants.R_OK : constants.R_OK | constants.X_OK);
  } catch {
    throw new StartupError(StartupErrorCode.RootUnreadable, `cannot read the root ${site.root}: permission denied`);
  }
}

/**
 * Every PEM file an ssl listener names must be a readable file, the private key file must hold a
 * private key, the certificate file a certificate, and the two must belong together: uWS itself
 * only says "App construction failed".
 */
export function checkCertificates(spec: ListenSpec): void {
  if (spec.kind !== 'ssl') return;
  checkPemFiles(spec);
  const fail = (message: string): never => {
    throw new StartupError(StartupErrorCode.CertificateMissing, `ssl: ${message}`);
  };
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(spec.privateKey));
  } catch {
    return fail(`privateKey ${spec.privateKey} holds no private key in PEM form (give it with privateKey=, the certificate with certKey=)`);
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readFileSync(spec.certKey));
  } catch {
    return fail(`certKey ${spec.certKey} holds no certificate in PEM form`);
  }
  if (!certificate.checkPrivateKey(key)) fail(`the private key in ${spec.privateKey} does not belong to the certificate in ${spec.certKey}`);
}

function checkPemFiles(spec: Extract<ListenSpec, { kind: 'ssl' }>): void {
  const files: Array<[string, string | undefined]> = [
    ['privateKey', spec.privateKey],
    ['certKey', spec.certKey],
    ['dhParameters', spec.dhParameters],
  ];
  for (const [name, file] of files) {
    if (file === undefined) continue;
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      accessSync(file, constants.R_OK);
    } catch {
      throw new StartupError(StartupErrorCode.CertificateMissing, `ssl ${name}: cannot read ${file}`);
    }
  }
}

/** Runs every check and returns the servers with their ports resolved. */
export async function prepareServers(servers: readonly ServerPlan[]): Promise<ServerPlan[]> {
  const prepared: ServerPlan[] = [];
  for (const server of servers) {
    checkSiteReadable(server.site);
    checkCertificates(server.listen);
    const listen = server.listen;
    if (listen.kind === 'unix') {
      await checkUnixSocketPath(listen.path);
      prepared.push(server);
    } else {
      prepared.push({ ...server, listen: { ...listen, port: await probeTcpPort(listen) } });
    }
  }
  return prepared;
}
