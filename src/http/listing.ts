/**
 * HTML directory listings: directories first, then files, each group in natural order
 * (seg_2 before seg_10); names escaped for HTML, links percent-encoded. Pure.
 */
import { escapeHtml } from './html.js';

export interface ListingEntry {
  readonly name: string;
  readonly isDirectory: boolean;
  readonly size: number;
  readonly mtimeMs: number;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Sorts entries for display: directories first, natural name order, ties by code point. */
export function sortEntries(entries: readonly ListingEntry[]): ListingEntry[] {
  return [...entries].sort(
    (a, b) =>
      Number(b.isDirectory) - Number(a.isDirectory) ||
      collator.compare(a.name, b.name) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/** Renders the listing page of `urlPath` (decoded, ending in `/`). */
export function renderListing(urlPath: string, entries: readonly ListingEntry[]): string {
  const title = `Index of ${escapeHtml(urlPath)}`;
  const rows: string[] = [];
  if (urlPath !== '/') rows.push('<tr><td><a href="../">../</a></td><td></td><td></td></tr>');
  for (const entry of sortEntries(entries)) {
    const suffix = entry.isDirectory ? '/' : '';
    const href = `./${encodeURIComponent(entry.name)}${suffix}`;
    rows.push(
      `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(entry.name)}${suffix}</a></td>` +
        `<td>${entry.isDirectory ? '-' : formatSize(entry.size)}</td>` +
        `<td>${new Date(entry.mtimeMs).toISOString().replace('T', ' ').slice(0, 19)}</td></tr>`,
    );
  }
  return (
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title>\n` +
    '<style>body{font-family:sans-serif}td{padding:0 1em 0 0}td:nth-child(2){text-align:right}</style></head>\n' +
    `<body><h1>${title}</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr>\n` +
    `${rows.join('\n')}\n</table></body></html>\n`
  );
}

/** Human size with the exact byte count for small files: 512, 1.5 KiB, 3.2 MiB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return String(bytes);
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
