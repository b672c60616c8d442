/**
 * Getopt semantics for clipanion: an option that takes a value takes the next argument whatever
 * it looks like, as the seed's Twisted parser did. Clipanion refuses values that start with "-"
 * (`--shape -,500kB` is a documented seed form), so such pairs are bound (`--shape=-,500kB`)
 * before clipanion sees them.
 */
import { canonicalName, findOption } from '../config/option-table.js';

export function bindOptionValues(argv: readonly string[]): string[] {
  const bound: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const spec = findOption(token);
    if (!spec?.takesValue || i + 1 >= argv.length) {
      bound.push(token);
      continue;
    }
    // `-h=...` would read as clipanion's own help flag: bind the seed's -h by its long name.
    const name = token === '-h' ? canonicalName(spec) : token;
    bound.push(`${name}=${argv[++i]!}`);
  }
  return bound;
}
