/**
 * The pure parts of proxying: --reverse and --monster as the seed spells them, the router table,
 * the vhost monster path, URL translation and which headers cross the proxy.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveArgv, type GivenOption } from '../../src/config/argv-plan.js';
import { draftFromDocument } from '../../src/config/config-file.js';
import { planToDocument } from '../../src/config/config-print.js';
import { buildPlan, type BuildEnv } from '../../src/config/draft.js';
import { parseReverse } from '../../src/config/proxy-spec.js';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../src/handlers/proxy/forward-headers.js';
import { translateRefresh, translateUrl, type Translation } from '../../src/handlers/proxy/url-translation.js';
import { parseMonsterPath } from '../../src/router/monster-path.js';
import { RequestRouter } from '../../src/router/request-router.js';

const env: BuildEnv = { cwd: '/srv', defaultWorkers: 1, statPath: () => 'directory' };
const FLAGS = new Set(['--proxy-insecure']);
const plan = (argv: string) => {
  const tokens = argv.split(' ').filter(Boolean);
  const options: GivenOption[] = [];
  for (let i = 0; i < tokens.length; i++) options.push(FLAGS.has(tokens[i]!) ? { name: tokens[i]!, value: true } : { name: tokens[i]!, value: tokens[++i]! });
  return resolveArgv(options, env);
};

test('--reverse in the seed form: port 80 and an empty path by default, the mount last', () => {
  assert.deepEqual(parseReverse('origin.example', 'w'), { upstream: { scheme: 'http', host: 'origin.example', port: 80, path: '' }, mount: '' });
  assert.deepEqual(parseReverse('10.0.0.5,8080,live/out/,/tv/', 'w'), {
    upstream: { scheme: 'http', host: '10.0.0.5', port: 8080, path: '/live/out' },
    mount: '/tv',
  });
  assert.deepEqual(parseReverse('[::1],81', 'w').upstream, { scheme: 'http', host: '::1', port: 81, path: '' });
  assert.deepEqual(parseReverse('https://CDN.example.com/vod/,,,cdn', 'w'), {
    upstream: { scheme: 'https', host: 'cdn.example.com', port: 443, path: '/vod' },
    mount: '/cdn',
  });
  assert.throws(() => parseReverse('a,1,2,3,4', '--reverse'), /has 5 comma-separated parts/);
  assert.throws(() => parseReverse('ftp://x/', '--reverse'), /only http and https/);
  assert.throws(() => parseReverse('http://u:p@x/', '--reverse'), /credentials/);
  assert.throws(() => parseReverse('bad_host!', '--reverse'), /is not a host name or address/);
  assert.throws(() => parseReverse('x,80,,a b', '--reverse'), /the path on this server "a b" must be plain path segments/);
  assert.throws(() => parseReverse('x,80,%2e%2e/etc', '--reverse'), /the upstream path "%2e%2e\/etc" must be plain path segments/);
  assert.throws(() => parseReverse('x,80,,a%2Fb', '--reverse'), /must be plain path segments/);
  assert.throws(() => parseReverse('http://x:0/', '--reverse'), /port "0" is not a port number/);
  assert.throws(() => parseReverse('fe80::1%eth0,80', '--reverse'), /a zone index/);
  assert.deepEqual(parseReverse('http://[2001:db8::1]:8080/a', 'w').upstream, { scheme: 'http', host: '2001:db8::1', port: 8080, path: '/a' });
});

test('--monster is the server\'s, once, and may not hide a proxy mount', () => {
  assert.throws(() => plan('--monster a -v x.example --monster b'), /--monster \(option 3\): the first server already has --monster \(option 1\)/);
  assert.throws(() => plan('--monster vhm --reverse o,80,,vhm/x'), /the path \/vhm\/x is under the vhost monster path of --monster \(option 1\)/);
  const ipv6 = plan('--reverse http://[2001:db8::1]:8080/a,,,m');
  assert.deepEqual(buildPlan(draftFromDocument(JSON.parse(JSON.stringify(planToDocument(ipv6))), 'p.json', '/'), env), ipv6);
});

test('--reverse applies to the current server or virtual host in argv order; upstreams are shared', () => {
  const p = plan('--reverse o1,81 -v one.local --reverse o2,82,base,media -h 9000 --reverse o1,81,,x --monster vhm --proxy-timeout 2.5 --proxy-insecure');
  assert.deepEqual(p.servers[0]!.site.proxies, [{ upstream: 0, mount: '' }]);
  assert.deepEqual(p.servers[0]!.vhosts[0]!.proxies, [{ upstream: 1, mount: '/media' }]);
  assert.deepEqual(p.servers[1]!.site.proxies, [{ upstream: 0, mount: '/x' }]);
  assert.equal(p.servers[0]!.monster, null);
  assert.equal(p.servers[1]!.monster, '/vhm');
  assert.deepEqual(p.upstreams, [
    { id: 0, scheme: 'http', host: 'o1', port: 81, path: '' },
    { id: 1, scheme: 'http', host: 'o2', port: 82, path: '/base' },
  ]);
  assert.deepEqual(p.proxy, { timeoutMs: 2500, insecure: true, checkIntervalMs: 5000 });
  // --print-config writes them back in a form that loads into the same plan.
  const document = JSON.parse(JSON.stringify(planToDocument(p)));
  assert.deepEqual(document.servers[0].vhosts[0].reverse, ['http://o2:82/base,,,media']);
  assert.equal(document.servers[1].monster, 'vhm');
  assert.deepEqual(buildPlan(draftFromDocument(document, 'p.json', '/'), env), p);
});

test('config file keys: reverse (one or a list), monster, proxy settings; errors name the key', () => {
  const p = buildPlan(
    draftFromDocument({ proxyTimeout: 3, proxyCheckInterval: 0, servers: [{ reverse: 'o,8080', monster: 'vhm', vhosts: [{ host: 'a.b', reverse: ['x,80,,m'] }] }] }, 'c.json', '/'),
    env,
  );
  assert.deepEqual(p.proxy, { timeoutMs: 3000, insecure: false, checkIntervalMs: 0 });
  assert.equal(p.servers[0]!.monster, '/vhm');
  assert.deepEqual(p.servers[0]!.vhosts[0]!.proxies, [{ upstream: 1, mount: '/m' }]);
  assert.throws(() => draftFromDocument({ servers: [{ reverse: ['o,0'] }] }, 'c.json', '/'), /c.json: servers\[0\].reverse\[0\]: port "0"/);
});

test('the router: monster path, then Host, then the longest proxy leaf, then static', () => {
  const p = plan('--reverse o,80,,live --reverse o2,80,,live/hd -v tv.example --reverse o3 --monster vhm');
  const router = new RequestRouter(p.servers[0]!);
  assert.equal(router.readsHost, true);
  assert.deepEqual(router.route('', '/index.html').route, { kind: 'static', site: 0, path: '/index.html' });
  assert.deepEqual(router.route('', '/live').route, { kind: 'proxy', site: 0, upstream: 0, mount: '/live', path: '' });
  assert.deepEqual(router.route('', '/live/a.m3u8').route, { kind: 'proxy', site: 0, upstream: 0, mount: '/live', path: '/a.m3u8' });
  assert.deepEqual(router.route('', '/live/hd/b.ts').route, { kind: 'proxy', site: 0, upstream: 1, mount: '/live/hd', path: '/b.ts' });
  assert.deepEqual(router.route('', '/lively').route, { kind: 'static', site: 0, path: '/lively' });
  assert.deepEqual(router.route('tv.example', '/anything').route, { kind: 'proxy', site: 1, upstream: 2, mount: '', path: '/anything' });
  // Dot segments would reach upstream paths outside the mount.
  assert.deepEqual(router.route('', '/live/../secret').route, { kind: 'error', code: 'bad-proxy-path' });
  for (const escape of ['/live/%2E%2e/secret', '/live/..%2F..%2Fadmin', '/live/a%5c..%5cb', '/live/a\\b', '/live/..;x/admin', '/live/%00']) {
    assert.deepEqual(router.route('', escape).route, { kind: 'error', code: 'bad-proxy-path' }, escape);
  }
  assert.equal(router.route('', '/live/seg.1.ts;v=2').route.kind, 'proxy');
  // Behind the monster path: the public host picks the virtual host; the segments are gone.
  const behind = router.route('backend', '/vhm/https/TV.example:8443/x/y');
  assert.deepEqual(behind.route, { kind: 'proxy', site: 1, upstream: 2, mount: '', path: '/x/y' });
  assert.deepEqual(behind.origin, { scheme: 'https', hostname: 'tv.example', authority: 'tv.example:8443' });
  assert.deepEqual(router.route('', '/vhm/http/public.example').route, { kind: 'static', site: 0, path: '/' });
  assert.deepEqual(router.route('', '/vhm/gopher/x/').route, { kind: 'error', code: 'bad-monster-host' });
  assert.deepEqual(router.route('', '/vhmx').route, { kind: 'static', site: 0, path: '/vhmx' });
  assert.equal(new RequestRouter(plan('').servers[0]!).readsHost, false);
});

test('monster host segments: name or address, optional port, scheme default port left out', () => {
  assert.deepEqual(parseMonsterPath('/http/public.example:80/a'), { origin: { scheme: 'http', hostname: 'public.example', authority: 'public.example' }, path: '/a' });
  assert.deepEqual(parseMonsterPath('/https/public.example/'), { origin: { scheme: 'https', hostname: 'public.example', authority: 'public.example' }, path: '/' });
  assert.deepEqual(parseMonsterPath('/http/[::1]:8080/z')?.origin, { scheme: 'http', hostname: '[::1]', authority: '[::1]:8080' });
  for (const bad of ['', '/http', '/http/', '/ftp/x/', '/http/a_b/', '/http/x:0/', '/http/x:70000/', '/http/x:/', '/http/<script>/']) {
    assert.equal(parseMonsterPath(bad), null, bad);
  }
});

const translation: Translation = {
  upstreamScheme: 'http',
  upstreamHost: 'origin.internal',
  upstreamPort: 8080,
  upstreamPath: '/vod',
  publicScheme: 'https',
  publicAuthority: 'media.example',
  mount: '/cdn',
};

test('URL translation: the upstream\'s absolute URLs and absolute paths under its prefix move to the leaf', () => {
  assert.equal(translateUrl('http://origin.internal:8080/vod/a/b.m3u8?x=1', translation), 'https://media.example/cdn/a/b.m3u8?x=1');
  assert.equal(translateUrl('HTTP://ORIGIN.internal:8080/vod', translation), 'https://media.example/cdn');
  assert.equal(translateUrl('/vod/next/', translation), 'https://media.example/cdn/next/');
  assert.equal(translateUrl('relative/x', translation), 'relative/x');
  assert.equal(translateUrl('/other/x', translation), '/other/x');
  assert.equal(translateUrl('/vodka', translation), '/vodka');
  assert.equal(translateUrl('http://origin.internal/vod/x', translation), 'http://origin.internal/vod/x', 'another port is another origin');
  assert.equal(translateUrl('https://elsewhere.example/vod/x', translation), 'https://elsewhere.example/vod/x');
  assert.equal(translateUrl('//origin.internal:8080/vod/x', translation), '//origin.internal:8080/vod/x');
  const noHost = { ...translation, publicAuthority: null, mount: '', upstreamPath: '' };
  assert.equal(translateUrl('http://origin.internal:8080', noHost), '/');
  assert.equal(translateUrl('http://origin.internal:8080/a?b', noHost), '/a?b');
  assert.equal(translateRefresh('5; url=/vod/x', translation), '5; url=https://media.example/cdn/x');
  assert.equal(translateRefresh("0;URL='http://origin.internal:8080/vod/y'", translation), "0;URL='https://media.example/cdn/y'");
  assert.equal(translateRefresh('30', translation), '30');
  // An upstream's `//elsewhere` never becomes a reference to another host.
  assert.equal(translateUrl('http://origin.internal:8080//evil.example/x', noHost), '/evil.example/x');
  assert.equal(translateUrl('/\\evil.example/x', noHost), '/evil.example/x');
});

test('headers up: hop-by-hop and Connection-named go, Host is the upstream\'s, X-Forwarded-* appended only to a trusted chain', () => {
  const headers = [
    ['host', 'media.example'],
    ['connection', 'keep-alive, x-secret-hop'],
    ['x-secret-hop', '1'],
    ['keep-alive', 'timeout=5'],
    ['te', 'trailers'],
    ['range', 'bytes=0-99'],
    ['if-none-match', '"a"'],
    ['x-forwarded-for', '203.0.113.9'],
    ['x-forwarded-proto', 'https'],
    ['cookie', 'a=1'],
    ['forwarded', 'for=203.0.113.9'],
    ['true-client-ip', '198.51.100.1'],
  ].flat();
  const pairs = (flat: string[]) => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);
  const untrusted = pairs(upstreamRequestHeaders({ headers, upstreamHost: 'origin:8080', peer: '127.0.0.2', trusted: false, scheme: 'http', host: 'media.example' }));
  assert.deepEqual(untrusted, [
    ['host', 'origin:8080'],
    ['range', 'bytes=0-99'],
    ['if-none-match', '"a"'],
    ['cookie', 'a=1'],
    ['x-forwarded-for', '127.0.0.2'],
    ['x-forwarded-host', 'media.example'],
    ['x-forwarded-proto', 'http'],
  ]);
  const trusted = new Map(pairs(upstreamRequestHeaders({ headers, upstreamHost: 'o', peer: '10.0.0.1', trusted: true, scheme: 'http', host: 'media.example' })) as Array<[string, string]>);
  assert.equal(trusted.get('x-forwarded-for'), '203.0.113.9, 10.0.0.1');
  assert.equal(trusted.get('x-forwarded-proto'), 'https');
  assert.equal(trusted.get('forwarded'), 'for=203.0.113.9', 'a trusted peer\'s Forwarded goes on; an untrusted one\'s does not (above)');
  const smuggled = pairs(upstreamRequestHeaders({ headers: ['transfer-encoding', 'chunked', 'content-length', '5'], upstreamHost: 'o', peer: 'p', trusted: false, scheme: 'http', host: '' }));
  assert.ok(!smuggled.some(([name]) => name === 'content-length' || name === 'transfer-encoding'));
});

test('headers down: validators and caching pass, hop-by-hop and framing go, Location and Set-Cookie lists survive', () => {
  const out = clientResponseHeaders(
    {
      'content-type': 'application/vnd.apple.mpegurl',
      etag: '"v1"',
      'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT',
      'cache-control': 'max-age=2',
      'content-length': '10',
      'transfer-encoding': 'chunked',
      connection: 'close, x-hop',
      'x-hop': 'gone',
      'set-cookie': ['a=1', 'b=2'],
      location: 'http://origin.internal:8080/vod/next',
      'content-location': '/vod/here',
      'access-control-allow-origin': 'https://player.example',
    },
    translation,
    false,
  );
  assert.deepEqual(out, [
    ['content-type', 'application/vnd.apple.mpegurl'],
    ['etag', '"v1"'],
    ['last-modified', 'Tue, 01 Dec 2026 00:00:00 GMT'],
    ['cache-control', 'max-age=2'],
    ['set-cookie', 'a=1'],
    ['set-cookie', 'b=2'],
    ['location', 'https://media.example/cdn/next'],
    ['content-location', 'https://media.example/cdn/here'],
    ['access-control-allow-origin', 'https://player.example'],
  ]);
  // With --cors this server's own CORS headers go out: the upstream's would make two.
  assert.deepEqual(
    clientResponseHeaders({ 'access-control-allow-origin': '*', 'timing-allow-origin': '*', 'access-control-allow-methods': 'GET, POST', etag: '"a"' }, translation, true),
    [['access-control-allow-methods', 'GET, POST'], ['etag', '"a"']],
  );
});
