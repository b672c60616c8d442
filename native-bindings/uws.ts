/**
 * The only module that loads the native uWebSockets.js addon. Everything else imports the typed
 * facade from here, so a missing or mismatched binary fails in one place with one clear sentence.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  AppOptions,
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_listen_socket,
  us_socket,
  us_socket_context_t,
  WebSocket,
} from 'uWebSockets.js';

export type { AppOptions, HttpRequest, HttpResponse, us_listen_socket as ListenSocket, us_socket_context_t as SocketContext, WebSocket };

/**
 * An app as the pinned native module really exposes it: the published typings omit the
 * acceptor/child-app descriptor calls that let one thread accept and others serve.
 */
export interface ServerApp extends TemplatedApp {
  /** Opaque handle of this app (its native address) for `addChildAppDescriptor` on an acceptor. */
  getDescriptor(): number;
  /** Hand every connection this app accepts, round-robin, to the child app with that descriptor. */
  addChildAppDescriptor(descriptor: number): ServerApp;
  /** Stop handing connections to that child; call before the child's thread goes away. */
  removeChildAppDescriptor(descriptor: number): ServerApp;
}

/** The part of the native module the server uses. */
export interface Uws {
  App(options?: AppOptions): ServerApp;
  SSLApp(options: AppOptions): ServerApp;
  us_listen_socket_close(listenSocket: us_listen_socket): void;
  us_socket_local_port(socket: us_listen_socket | us_socket): number;
}

/** Raised when no native binary matches this platform, CPU and Node ABI. */
export class UwsLoadError extends Error {
  readonly code = 'UWS_NO_BINARY';
}

let loaded: Uws | undefined;

/** Loads (once per thread) the native module matching this platform, arch and Node ABI. */
export function loadUws(): Uws {
  if (loaded) return loaded;
  const binDir = join(dirname(fileURLToPath(import.meta.resolve('uWebSockets.js'))), 'bin');
  const wanted = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  const available = listBinaries(binDir);
  if (!available.includes(wanted)) {
    throw new UwsLoadError(
      `uWebSockets.js has no native binary for ${process.platform}/${process.arch} with Node ABI ` +
        `${process.versions.modules} (Node ${process.versions.node}); the installed package ships ` +
        `${describe(available)}.`,
    );
  }
  loaded = createRequire(import.meta.url)(join(binDir, wanted)) as Uws;
  return loaded;
}

function listBinaries(binDir: string): string[] {
  try {
    return readdirSync(binDir).filter((name) => name.endsWith('.node'));
  } catch {
    return [];
  }
}

function describe(binaries: string[]): string {
  if (binaries.length === 0) return 'no binaries at all (is the uWebSockets.js dependency installed?)';
  const platforms = new Set<string>();
  const abis = new Set<string>();
  for (const name of binaries) {
    const [, platform, arch, abi] = name.replace(/\.node$/, '').split('_');
    platforms.add(`${platform}/${arch}`);
    abis.add(abi ?? '?');
  }
  return `${[...platforms].sort().join(', ')} for Node ABI ${[...abis].sort().join(', ')}`;
}
