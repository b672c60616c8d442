/**
 * uPlot, the charting library of the pages this server writes (the load report, the control
 * plane's dashboard), inlined into each page so it opens offline and fetches nothing: its script,
 * its style and its licence, read from the installed package once, before they are needed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface UplotAssets {
  readonly script: string;
  readonly style: string;
  readonly licence: string;
}

export function readUplotAssets(): UplotAssets {
  const require = createRequire(import.meta.url);
  const read = (path: string): string => readFileSync(require.resolve(path), 'utf8');
  return { script: read('uplot/dist/uPlot.iife.min.js'), style: read('uplot/dist/uPlot.min.css'), licence: read('uplot/LICENSE') };
}

/** For a page's head: the licence (in a comment, which may not hold `--`) and the style. */
export function uplotHead(assets: UplotAssets): string {
  return `<!-- Charts by uPlot, inlined:
${assets.licence.replace(/--/g, '- -')}
-->
<style>${assets.style}</style>`;
}
