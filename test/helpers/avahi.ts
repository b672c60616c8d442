/**
 * Avahi, the Linux mDNS stack, as a client on the far side of a namespace pair: a private D-Bus
 * bus (avahi talks to its tools over D-Bus), avahi-daemon in the client namespace on its veth only,
 * and `avahi-browse -p -r` lines as they come, timestamped. Null, with the reason, when avahi or
 * D-Bus is not installed or the daemon will not start (another avahi-daemon already running).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NamespacePair } from './netns.js';
import { waitFor } from './proc.js';

export interface Avahi {
  /** `avahi-browse -p -r TYPE` in the client namespace, until stop(): its lines, with when each came. */
  browse(type: string): { readonly lines: Array<{ at: number; fields: string[] }>; stop(): void };
  stop(): void;
}

export function avahiMissing(): string | null {
  for (const tool of ['avahi-daemon', 'avahi-browse', 'dbus-daemon']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install avahi-daemon avahi-utils dbus)`;
  }
  return null;
}

export async function startAvahi(pair: NamespacePair): Promise<Avahi | string> {
  const dir = mkdtempSync(join(tmpdir(), 'mediacast-avahi-'));
  const bus = `unix:path=${join(dir, 'bus')}`;
  writeFileSync(
    join(dir, 'bus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>${bus}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>
`,
  );
  writeFileSync(join(dir, 'avahi.conf'), `[server]\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=${pair.clientInterface}\nenable-dbus=yes\n[publish]\ndisable-publishing=yes\n`);
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: bus };
  const children: ChildProcess[] = [];
  const stop = (): void => {
    for (const child of children.reverse()) if (child.exitCode === null) child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  const dbus = spawn('dbus-daemon', ['--config-file', join(dir, 'bus.conf'), '--nofork'], { stdio: 'ignore' });
  children.push(dbus);
  if (!(await waitFor(() => spawnSync('test', ['-S', join(dir, 'bus')]).status === 0, 3000))) {
    stop();
    return 'the private D-Bus bus did not start';
  }
  let log = '';
  const daemon = spawn('ip', ['netns', 'exec', pair.client, 'avahi-daemon', '-f', join(dir, 'avahi.conf'), '--no-drop-root', '--no-chroot', '--no-rlimits'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(daemon);
  for (const stream of [daemon.stdout!, daemon.stderr!]) stream.on('data', (chunk: Buffer) => (log += chunk.toString()));
  if (!(await waitFor(() => log.includes('Server startup complete') || daemon.exitCode !== null, 5000)) || daemon.exitCode !== null) {
    stop();
    return `avahi-daemon did not start in the client namespace: ${log.trim().split('\n').at(-1) ?? ''}`;
  }
  return {
    browse(type) {
      const lines: Array<{ at: number; fields: string[] }> = [];
      const child = spawn('ip', ['netns', 'exec', pair.client, 'avahi-browse', '-p', '-r', type], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      children.push(child);
      let rest = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        const parts = (rest + chunk.toString()).split('\n');
        rest = parts.pop()!;
        for (const line of parts) if (line !== '') lines.push({ at: performance.now(), fields: line.split(';') });
      });
      return { lines, stop: () => child.kill() };
    },
    stop,
  };
}

/** avahi-browse -p escapes names as \DDD (decimal): the name as it was. */
export function avahiUnescape(text: string): string {
  return text.replace(/\\(\d{3})/g, (_, code: string) => String.fromCharCode(Number(code)));
}
