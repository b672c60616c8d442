/**
 * Getopt semantics for clipanion: an option that takes a value takes the next argument whatever
 * it looks like, as the seed's Twisted parser did. Clipanion refuses values that start with "-"
 * (`--shape -,500kB` is a documented seed form), so such pairs are bound (`--shape=-,500kB`)
 * before clipanion sees them.
 */
import { canonicalName, findOption } from '../config/option-table.js';

/**
 * Clipanion only accepts `--name=value` for names of letters and dashes (its OPTION_REGEX), so a
 * name with a digit (`--shape-ipv6-prefix`) stays two arguments; it matches by exact name then.
 */
const BINDABLE = /^(--[a-z]+(?:-[a-z]+)*|-[a-zA-Z])$/;

export function bindOptionValues(argv: readonly string[]): string[] {
  const bound: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const eq = token.indexOf('=');
    if (eq > 0 && findOption(token.slice(0, eq)) && !BINDABLE.test(token.slice(0, eq))) {
      // `--shape-ipv6-prefix=64` becomes the two arguments clipanion can read.
      bound.push(token.slice(0, eq), token.slice(eq + 1));
      continue;
    }
    const spec = findOption(token);
    if (!spec?.takesValue || i + 1 >= argv.length || !BINDABLE.test(token)) {
      bound.push(token);
      continue;
    }
    // `-h=...` would read as clipanion's own help flag: bind the seed's -h by its long name.
    const name = token === '-h' ? canonicalName(spec) : token;
    bound.push(`${name}=${argv[++i]!}`);
  }
  return bound;
}
