/**
 * Two network namespaces joined by a veth pair, multicast on, for tests of what crosses a
 * network (mDNS): the only place such traffic may go. Needs root and iproute2; `available()` says
 * why not when it cannot be had.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface NamespacePair {
  readonly server: string;
  readonly client: string;
  readonly serverAddress: string;
  readonly clientAddress: string;
  /** The server side's interface name (a veth, shown by `ip link` as NAME@ifN). */
  readonly serverInterface: string;
  readonly clientInterface: string;
  remove(): void;
}

/** Null when namespaces can be made here, else the reason (found by making and removing one). */
export function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (spawnSync('ip', ['-V']).status !== 0) return 'needs iproute2 (ip netns)';
  const probe = `mcprobe${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', probe]);
  return made.status === 0 ? null : `cannot create a network namespace here: ${made.stderr.trim()}`;
}

export function createPair(tag: string): NamespacePair {
  const server = `mc${tag}s`;
  const client = `mc${tag}c`;
  const serverInterface = `mv${tag}s`;
  const clientInterface = `mv${tag}c`;
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: 'pipe' });
  };
  const remove = (): void => {
    for (const ns of [server, client]) spawnSync('ip', ['netns', 'del', ns]);
    // Left in this namespace when moving it failed half-way.
    spawnSync('ip', ['link', 'del', serverInterface]);
  };
  try {
    ip('netns', 'add', server);
    ip('netns', 'add', client);
    ip('link', 'add', serverInterface, 'type', 'veth', 'peer', 'name', clientInterface);
    ip('link', 'set', serverInterface, 'netns', server);
    ip('link', 'set', clientInterface, 'netns', client);
    for (const [ns, dev, address] of [
      [server, serverInterface, '10.213.7.1/24'],
      [client, clientInterface, '10.213.7.2/24'],
    ] as const) {
      ip('-n', ns, 'addr', 'add', address, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'up', 'multicast', 'on');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev);
    }
  } catch (error) {
    remove();
    throw error;
  }
  return { server, client, serverAddress: '10.213.7.1', clientAddress: '10.213.7.2', serverInterface, clientInterface, remove };
}
