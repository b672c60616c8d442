/**
 * Path patterns of fault rules: `*` (any run within a segment), `**` (any run across segments;
 * a double star between two slashes also matches a single slash), `?` (one character within a segment), everything else
 * literal. A pattern without `/` matches the last segment. Matched by dynamic programming over
 * the pattern's tokens, in time bounded by pattern length x path length whatever the pattern (a
 * regular expression could backtrack for seconds on a path a client chose), and paths longer
 * than MAX_MATCHED_PATH never match. Pure.
 */

export const MAX_PATTERN_LENGTH = 256;
export const MAX_MATCHED_PATH = 4096;

export class PatternError extends Error {}

type Token =
  | { readonly kind: 'char'; readonly char: string }
  | { readonly kind: 'one' }
  | { readonly kind: 'segment' }
  | { readonly kind: 'any' }
  /** `**` followed by `/`: nothing, or any run ending with a slash. */
  | { readonly kind: 'dirs' };

export interface PathGlob {
  matches(path: string): boolean;
}

/** Glob syntax this matcher does not have: refused rather than taken literally by surprise. */
const REFUSED = /[[\]{}]/;

export function compileGlob(pattern: string): PathGlob {
  if (pattern === '' || pattern.length > MAX_PATTERN_LENGTH) throw new PatternError(`expected a pattern of 1 to ${MAX_PATTERN_LENGTH} characters`);
  const refused = REFUSED.exec(pattern);
  if (refused) throw new PatternError(`"${refused[0]}" is not part of a path pattern (only *, ** and ? are special)`);
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '?') tokens.push({ kind: 'one' });
    else if (char === '*' && pattern[i + 1] === '*') {
      const wholeSegment = i === 0 || pattern[i - 1] === '/';
      i++;
      while (pattern[i + 1] === '*') i++;
      if (wholeSegment && pattern[i + 1] === '/') {
        i++;
        tokens.push({ kind: 'dirs' });
      } else tokens.push({ kind: 'any' });
    } else if (char === '*') tokens.push({ kind: 'segment' });
    else tokens.push({ kind: 'char', char });
  }
  const lastSegmentOnly = !pattern.includes('/');
  // `/live/**` names the directory too, as shells and picomatch read it.
  const directory = pattern.endsWith('/**') ? pattern.slice(0, -3) : null;
  const reach = new Uint8Array(tokens.length + 1);
  const next = new Uint8Array(tokens.length + 1);
  return {
    matches(path: string): boolean {
      const text = lastSegmentOnly ? path.slice(path.lastIndexOf('/') + 1) : path;
      if (text.length > MAX_MATCHED_PATH) return false;
      return text === directory || matchTokens(tokens, text, reach, next);
    },
  };
}

/** Whether `tokens` match all of `text`: reach[j] says the first j tokens can match the text so far. */
function matchTokens(tokens: readonly Token[], text: string, first: Uint8Array, second: Uint8Array): boolean {
  const n = tokens.length;
  let reach = first;
  let next = second;
  reach.fill(0);
  reach[0] = 1;
  closeOverEmpty(tokens, reach);
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    next.fill(0);
    for (let j = 0; j < n; j++) {
      if (!reach[j]) continue;
      const token = tokens[j]!;
      switch (token.kind) {
        case 'char':
          if (token.char === char) next[j + 1] = 1;
          break;
        case 'one':
          if (char !== '/') next[j + 1] = 1;
          break;
        case 'segment':
          // Stays on the star (it may take more) unless the segment ends.
          if (char !== '/') next[j] = 1;
          break;
        case 'any':
          next[j] = 1;
          break;
        case 'dirs':
          next[j] = 1;
          if (char === '/') next[j + 1] = 1;
          break;
      }
    }
    closeOverEmpty(tokens, next);
    [reach, next] = [next, reach];
    // Nothing can match any more: most paths fail a literal prefix at once.
    if (reach.indexOf(1) < 0) return false;
  }
  return reach[n] === 1;
}

/** Stars, and a double star before a slash, may match nothing: whoever reaches one reaches past it too. */
function closeOverEmpty(tokens: readonly Token[], reach: Uint8Array): void {
  for (let j = 0; j < tokens.length; j++) {
    const kind = tokens[j]!.kind;
    if (reach[j] && (kind === 'segment' || kind === 'any' || kind === 'dirs')) reach[j + 1] = 1;
  }
}
