/**
 * Error response bodies: a tiny HTML page with the status and a safe message. Detail (stack
 * traces) only when the operator asked for tracebacks.
 */
import { escapeHtml } from './html.js';
import { reasonPhrase } from './status.js';

/** The HTML body of an error response. */
export function errorPage(status: number, message?: string, detail?: string): string {
  const title = `${status} ${reasonPhrase(status)}`;
  const text = message === undefined ? '' : `<p>${escapeHtml(message)}</p>\n`;
  const pre = detail === undefined ? '' : `<pre>${escapeHtml(detail)}</pre>\n`;
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1>\n${text}${pre}</body></html>\n`;
}
