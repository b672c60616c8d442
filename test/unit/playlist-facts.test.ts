/** What served playlists say about renditions, and the map from a path to its rendition. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RenditionMap } from '../../src/control/rendition-map.js';
import { playlistFacts } from '../../src/stats/playlist-facts.js';

const MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=290400,RESOLUTION=426x240\nlow/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1390400\nhttps://cdn.example/high.m3u8\n';
const MEDIA = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2,\nseg_0.m4s\n#EXTINF:2,\n../shared/seg_1.m4s\n#EXT-X-ENDLIST\n';

test('an HLS master names its variants by path (those on this server), a media playlist its segments and init', () => {
  assert.deepEqual(playlistFacts(MASTER, '/vod/master.m3u8'), { kind: 'master', variants: [{ playlist: '/vod/low/index.m3u8', rendition: { bandwidth: 290_400, label: '240p' } }] });
  assert.deepEqual(playlistFacts(MEDIA, '/vod/low/index.m3u8'), { kind: 'media', playlist: '/vod/low/index.m3u8', segments: ['/vod/low/seg_0.m4s', '/vod/low/init.mp4', '/vod/shared/seg_1.m4s'] });
  assert.equal(playlistFacts('<html></html>', '/x.m3u8'), null);
});

test('the map: a segment to its playlist to the master\'s variant; unknown paths have none', () => {
  const map = new RenditionMap();
  map.learn(0, playlistFacts(MEDIA, '/vod/low/index.m3u8')!);
  assert.equal(map.renditionOf(0, '/vod/low/seg_0.m4s'), null, 'no master yet');
  map.learn(0, playlistFacts(MASTER, '/vod/master.m3u8')!);
  assert.deepEqual(map.renditionOf(0, '/vod/low/seg_0.m4s'), { bandwidth: 290_400, label: '240p' });
  assert.deepEqual(map.renditionOf(0, '/vod/low/index.m3u8'), { bandwidth: 290_400, label: '240p' });
  assert.equal(map.renditionOf(1, '/vod/low/seg_0.m4s'), null, 'another server learnt nothing');
  assert.equal(map.renditionOf(0, '/other.ts'), null);
});
