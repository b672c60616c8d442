/**
 * Bonjour/mDNS advertisement of the servers that asked for it (`--bonjour`), from the coordinator
 * (@homebridge/ciao). The interfaces are passed to ciao explicitly, from os.networkInterfaces():
 * ciao's own discovery reads `ip -o link show`, whose `eth0@if23` names for veth and container
 * interfaces match nothing, and would leave it advertising on loopback alone. Every service is
 * probed and announced in the background (startup does not wait for probing; ciao retries what
 * fails); nothing that goes wrong here takes the media server down; a name taken on the network
 * is renamed by ciao and the final name logged; stop sends goodbyes (TTL 0).
 */
import ciao, { type CiaoService, type Responder } from '@homebridge/ciao';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import type { ServerPlan } from '../../config/plan.js';
import { describeListen } from '../../config/strport.js';
import { remaining, type Subsystem } from '../lifecycle.js';
import { advertisementsOf, usableInterfaces, type UsableInterface } from '../mdns-records.js';

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
  let stopped = false;

  /** Everything that can go wrong here is logged: advertising never stops the media server. */
  const advertiseAll = (): void => {
    const computer = computerName();
    const adverts = servers.flatMap((server) => advertisementsOf(server, computer, version).map((advert) => ({ server, advert })));
    for (const server of servers) {
      if (server.bonjour.length > 0 && !adverts.some((a) => a.server === server)) {
        io.log(`bonjour: ${describeListen(server.listen)} is not advertised (a unix socket, or an address the network cannot reach: loopback, link-local)`);
      }
    }
    if (adverts.length === 0) return;
    const interfaces = chooseInterfaces(allowed, io.log);
    // ciao needs a loopback interface to exist (without one its start-up rejects unhandled).
    if (!Object.values(networkInterfaces()).some((infos) => infos?.some((info) => info.internal))) {
      io.log('bonjour: no loopback interface is up; nothing is advertised');
      return;
    }
    if (interfaces.length === 0) {
      io.log('bonjour: no network interface has an address to advertise; nothing is advertised');
      return;
    }
    responder = ciao.getResponder({ interface: interfaces.map((i) => i.name) });
    const everyAddress = interfaces.flatMap((i) => i.addresses);
    for (const { server, advert } of adverts) {
      const where = describeListen(server.listen);
      let service: CiaoService;
      try {
        service = responder.createService({
          name: advert.name,
          type: advert.type,
          port: advert.port,
          txt: { ...advert.txt },
          restrictedAddresses: advert.address === null ? everyAddress : [advert.address],
        });
      } catch (error) {
        // ciao refuses an address it does not find on an interface it speaks on.
        io.log(`bonjour: "${advert.name}" for ${where} cannot be advertised: ${(error as Error).message}`);
        continue;
      }
      service.on('name-change', (name: string) => io.log(`bonjour: "${advert.name}" is taken on the network; advertising as "${name}"`));
      services.push(service);
      // ciao probes and announces, and retries by itself (every 2 s) what fails; it reports
      // completion only.
      service.advertise().then(
        () => {
          if (!stopped) io.print(`bonjour: advertising "${service.getFQDN()}" for ${where}`);
        },
        (error: unknown) => io.log(`bonjour: advertising "${advert.name}" for ${where} failed: ${(error as Error).message}`),
      );
    }
  };

  return {
    name: 'bonjour advertising',
    async start() {
      try {
        advertiseAll();
      } catch (error) {
        io.log(`bonjour: advertising failed: ${(error as Error).message}; the server runs without it`);
      }
    },
    async stop(deadline) {
      stopped = true;
      if (responder === null) return;
      const current = responder;
      // Goodbyes (TTL 0) first, then the sockets.
      const goodbyes = Promise.allSettled(services.map((service) => service.destroy())).then(() => current.shutdown());
      await Promise.race([goodbyes.catch(() => {}), new Promise((resolveWait) => setTimeout(resolveWait, Math.min(STOP_WAIT_MS, remaining(deadline))).unref())]);
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
  // The first label: dots in an instance name would read as more DNS labels.
  return hostname().split('.')[0] || 'localhost';
}
