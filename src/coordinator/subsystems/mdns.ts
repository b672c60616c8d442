/**
 * Bonjour/mDNS advertisement of the servers that asked for it (`--bonjour`), from the coordinator
 * (@homebridge/ciao). The interfaces are passed to ciao explicitly, from os.networkInterfaces():
 * ciao's own discovery reads `ip -o link show`, whose `eth0@if23` names for veth and container
 * interfaces match nothing, and would leave it advertising on loopback alone. Every service is
 * probed and announced in the background (startup does not wait for probing); a failure is logged
 * and retried with backoff and never takes the media server down; a name taken on the network is
 * renamed by ciao and the final name logged; stop sends goodbyes (TTL 0).
 */
import ciao, { type CiaoService, type Responder } from '@homebridge/ciao';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import type { ServerPlan } from '../../config/plan.js';
import { describeListen } from '../../config/strport.js';
import { remaining, type Subsystem } from '../lifecycle.js';
import { advertisementsOf, usableInterfaces, type Advertisement, type UsableInterface } from '../mdns-records.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;
/** Goodbyes go out in a few milliseconds; a responder that hangs is not waited for longer. */
const STOP_WAIT_MS = 2000;
/** Linux interface flag: the interface does multicast (mDNS needs it). */
const IFF_MULTICAST = 0x1000;

export interface MdnsIo {
  readonly print: (line: string) => void;
  readonly log: (line: string) => void;
}

export function mdnsAdvertising(servers: readonly ServerPlan[], allowed: readonly string[], version: string, io: MdnsIo): Subsystem {
  let responder: Responder | null = null;
  const services: CiaoService[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const advertise = (service: CiaoService, advert: Advertisement, where: string, delay: number): void => {
    service.advertise().then(
      () => io.print(`bonjour: advertising "${service.getFQDN()}" for ${where}`),
      (error: unknown) => {
        if (stopped) return;
        io.log(`bonjour: advertising "${advert.name}" for ${where} failed (${(error as Error).message}); retrying in ${delay / 1000} s`);
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!stopped) advertise(service, advert, where, Math.min(delay * 2, MAX_RETRY_MS));
        }, delay);
        timer.unref();
        timers.add(timer);
      },
    );
  };

  return {
    name: 'bonjour advertising',
    async start() {
      const computer = computerName();
      const adverts = servers.flatMap((server) => advertisementsOf(server, computer, version).map((advert) => ({ server, advert })));
      for (const server of servers) {
        if (server.bonjour.length > 0 && !adverts.some((a) => a.server === server)) {
          io.log(`bonjour: ${describeListen(server.listen)} is not advertised (a unix socket or a loopback address is not reachable from the network)`);
        }
      }
      if (adverts.length === 0) return;
      const interfaces = chooseInterfaces(allowed, io.log);
      if (interfaces.length === 0) {
        io.log('bonjour: no network interface has an address to advertise; nothing is advertised');
        return;
      }
      responder = ciao.getResponder({ interface: interfaces.map((i) => i.name) });
      const everyAddress = interfaces.flatMap((i) => i.addresses);
      for (const { server, advert } of adverts) {
        const service = responder.createService({
          name: advert.name,
          type: advert.type,
          port: advert.port,
          txt: { ...advert.txt },
          restrictedAddresses: advert.address === null ? everyAddress : [advert.address],
        });
        const where = describeListen(server.listen);
        service.on('name-change', (name: string) => io.log(`bonjour: "${advert.name}" is taken on the network; advertising as "${name}"`));
        services.push(service);
        advertise(service, advert, where, FIRST_RETRY_MS);
      }
    },
    async stop(deadline) {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      if (responder === null) return;
      const current = responder;
      const goodbyes = Promise.allSettled(services.map((service) => service.end())).then(() => current.shutdown());
      await Promise.race([goodbyes, new Promise((resolveWait) => setTimeout(resolveWait, Math.min(STOP_WAIT_MS, remaining(deadline))).unref())]);
    },
  };
}

/** The interfaces to use, with a warning for named ones that cannot serve and for those without multicast. */
function chooseInterfaces(allowed: readonly string[], log: (line: string) => void): UsableInterface[] {
  const all = networkInterfaces();
  const usable = usableInterfaces(all, allowed);
  for (const name of allowed) {
    if (!usable.some((i) => i.name === name)) {
      log(`bonjour: --bonjour-interface ${name}: ${all[name] ? 'has no address to advertise (loopback or link-local only)' : 'no such interface'}`);
    }
  }
  for (const { name } of usable) {
    if (!multicastOn(name)) log(`bonjour: interface ${name} has multicast off (a container bridge?): nobody will hear the advertisements there`);
  }
  return usable;
}

/** Whether an interface does multicast (Linux /sys); true when it cannot be told. */
function multicastOn(name: string): boolean {
  try {
    return (Number(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim()) & IFF_MULTICAST) !== 0;
  } catch {
    return true;
  }
}

/** The computer's name as people know it: macOS's ComputerName, elsewhere the host name. */
function computerName(): string {
  if (process.platform === 'darwin') {
    try {
      const name = execFileSync('scutil', ['--get', 'ComputerName'], { encoding: 'utf8', timeout: 2000 }).trim();
      if (name !== '') return name;
    } catch {
      // Fall back to the host name.
    }
  }
  return hostname().replace(/\.local$/, '');
}
