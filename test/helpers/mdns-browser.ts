/**
 * A Bonjour browser written by nobody here (the npm multicast-dns package), run as a script
 * inside the client namespace: `node mdns-browser.js ADDRESS SECONDS`. It asks for _http._tcp and
 * _https._tcp services every second and, as a resolving browser does, for the SRV and TXT records
 * of every instance and the addresses of every target it has heard of (a responder may leave them
 * out of the additionals); it prints each record it hears as one JSON line and stops by itself
 * after SECONDS.
 */
import makeMdns from 'multicast-dns';

const [address = '', seconds = '20'] = process.argv.slice(2);
// Bound to the wildcard (a unicast bind would hear no multicast), speaking on the veth address.
const mdns = makeMdns({ interface: address, bind: '0.0.0.0' });
const instances = new Set<string>();
const targets = new Set<string>();
mdns.on('response', (response) => {
  for (const answer of [...response.answers, ...(response.additionals ?? [])]) {
    if (answer.type === 'OPT') continue;
    const record = answer as { type: string; name: string; ttl?: number; data: unknown };
    if (record.type === 'PTR' && (record.ttl ?? 0) > 0) instances.add(String(record.data));
    if (record.type === 'SRV' && (record.ttl ?? 0) > 0) targets.add((record.data as { target: string }).target);
    const data = record.type === 'TXT' ? (record.data as Buffer[]).map((b) => b.toString()) : record.data;
    process.stdout.write(`${JSON.stringify({ type: record.type, name: record.name, ttl: record.ttl, data })}\n`);
  }
});
const ask = (): void =>
  mdns.query({
    questions: [
      { name: '_http._tcp.local', type: 'PTR' },
      { name: '_https._tcp.local', type: 'PTR' },
      ...[...instances].flatMap((name) => [
        { name, type: 'SRV' as const },
        { name, type: 'TXT' as const },
      ]),
      ...[...targets].flatMap((name) => [
        { name, type: 'A' as const },
        { name, type: 'AAAA' as const },
      ]),
    ],
  });
ask();
const every = setInterval(ask, 1000);
setTimeout(() => {
  clearInterval(every);
  mdns.destroy();
}, Number(seconds) * 1000);
