/**
 * Opens one uWS app per listening server in this worker.
 *
 * Every worker listens on the same TCP/TLS address with SO_REUSEPORT (uWS's default) and the
 * Linux kernel spreads new connections across them. We chose this over uWS's acceptor app with
 * child-app descriptors because, in the pinned uWS build, the acceptor cannot hand over TLS or
 * unix-socket connections (TLS resets, unix sockets crash) and a child app whose thread has died
 * leaves a dangling pointer in the acceptor, so one crashed worker would bring the whole process
 * down. The price: macOS does not balance SO_REUSEPORT (one worker gets the connections), and a
 * unix socket, which cannot be shared that way, is served by the first worker only.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import type { ListenSocket, ServerApp, Uws } from '../../native-bindings/uws.js';
import type { ListenSpec } from '../config/plan.js';
import type { HttpRequest, HttpResponse } from '../../native-bindings/uws.js';

export interface Listener {
  readonly serverId: number;
  readonly app: ServerApp;
  socket: ListenSocket | null;
}

/** Creates the app for `spec`, routes every request to `handler`, and listens. Throws on failure. */
export function openListener(
  uws: Uws,
  serverId: number,
  spec: ListenSpec,
  handler: (res: HttpResponse, req: HttpRequest) => void,
  onConnection: (res: HttpResponse, count: number) => void,
): Listener {
  const app =
    spec.kind === 'ssl'
      ? uws.SSLApp({
          key_file_name: spec.privateKey,
          cert_file_name: spec.certKey,
          ...(spec.dhParameters ? { dh_params_file_name: spec.dhParameters } : {}),
        })
      : uws.App();
  app.filter(onConnection);
  app.any('/*', handler);
  let socket: ListenSocket | false = false;
  const capture = (s: ListenSocket | false): void => {
    socket = s;
  };
  if (spec.kind === 'unix') {
    removeStaleSocket(spec.path);
    app.listen_unix(capture, spec.path);
  } else if (spec.host === undefined) {
    app.listen(spec.port, capture);
  } else {
    app.listen(spec.host, spec.port, capture);
  }
  if (!socket) {
    app.close();
    throw new Error(`could not listen on ${describeSpec(spec)}`);
  }
  return { serverId, app, socket };
}

/** Stops accepting new connections; existing ones keep going. */
export function stopListening(uws: Uws, listener: Listener): void {
  if (listener.socket) {
    uws.us_listen_socket_close(listener.socket);
    listener.socket = null;
  }
}

/**
 * The coordinator has checked at startup that no live server owns the socket path; a socket
 * file still there was left by this server's previous worker and is replaced.
 */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there.
  }
}

function describeSpec(spec: ListenSpec): string {
  if (spec.kind === 'unix') return `unix:${spec.path}`;
  return `${spec.kind}:${spec.host ?? '*'}:${spec.port}`;
}
