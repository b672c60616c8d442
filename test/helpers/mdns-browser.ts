/**
 * A Bonjour browser written by nobody here (the npm multicast-dns package), run as a script
 * inside the client namespace: `node mdns-browser.js ADDRESS SECONDS`. It asks for _http._tcp and
 * _https._tcp services every second and prints each record it hears as one JSON line; it stops by
 * itself after SECONDS.
 */
import makeMdns from 'multicast-dns';

const [address = '', seconds = '20'] = process.argv.slice(2);
// Bound to the wildcard (a unicast bind would hear no multicast), speaking on the veth address.
const mdns = makeMdns({ interface: address, bind: '0.0.0.0' });
mdns.on('response', (response) => {
  for (const answer of [...response.answers, ...(response.additionals ?? [])]) {
    if (answer.type === 'OPT') continue;
    const record = answer as { type: string; name: string; ttl?: number; data: unknown };
    const data = record.type === 'TXT' ? (record.data as Buffer[]).map((b) => b.toString()) : record.data;
    process.stdout.write(`${JSON.stringify({ type: record.type, name: record.name, ttl: record.ttl, data })}\n`);
  }
});
const ask = (): void =>
  mdns.query({
    questions: [
      { name: '_http._tcp.local', type: 'PTR' },
      { name: '_https._tcp.local', type: 'PTR' },
    ],
  });
ask();
const every = setInterval(ask, 1000);
setTimeout(() => {
  clearInterval(every);
  mdns.destroy();
}, Number(seconds) * 1000);
