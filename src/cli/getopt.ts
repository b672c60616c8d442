/**
 * The command line as the seed's Twisted (getopt) parser read it, checked and rewritten for
 * clipanion: `-p8080` and `-p 8080`, `--port=8080` and `--port 8080`, flags grouped (`-un`), and
 * a value taken whatever it looks like (`--shape -,500kB`). Every option ends up bound to its
 * value (`-p=8080`, `--port=8080`), the one form clipanion reads without guessing, under the name
 * the user typed so that messages quote it. What cannot be read is one sentence naming the
 * argument and what was expected. Pure.
 */
import { closest, distance } from 'fastest-levenshtein';
import { canonicalName, findOption, SERVE_OPTIONS } from '../config/option-table.js';

export type ParsedArgv = { readonly ok: true; readonly argv: string[] } | { readonly ok: false; readonly message: string };

/** Arguments clipanion handles itself. */
const BUILTINS: ReadonlySet<string> = new Set(['--help', '--version']);
/** Words of a pasted `twistd [options] mediacastserver [options]` line. */
const TWISTD_WORDS: ReadonlySet<string> = new Set(['twistd', 'mediacastserver', 'mediacast-server']);
/**
 * Clipanion reads `--name=value` only for names of letters and dashes (its OPTION_REGEX); a name
 * with a digit (`--shape-ipv6-prefix`) is passed as two arguments instead.
 */
const BINDABLE = /^(--[a-z]+(?:-[a-z]+)*|-[a-zA-Z])$/;

/** `-h=...` would read as clipanion's own help flag: the seed's -h goes by its long name. */
const typedName = (name: string, long: string): string => (name === '-h' ? long : name);

export function parseArgv(argv: readonly string[]): ParsedArgv {
  const out: string[] = [];
  const bind = (name: string, value: string): void => {
    if (BINDABLE.test(name)) out.push(`${name}=${value}`);
    else out.push(name, value);
  };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (i === 0 && token === 'serve') {
      out.push(token);
      continue;
    }
    // Asking for help or the version (where an option may stand) wins over the rest of the line.
    if (BUILTINS.has(token)) return { ok: true, argv: [token] };
    if (token === '--') {
      // The end of the options, in getopt: nothing may follow, as nothing but options is taken.
      if (i + 1 < argv.length) return fail(stray(argv[i + 1]!));
      continue;
    }
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const typed = eq < 0 ? token : token.slice(0, eq);
      // getopt also took a unique prefix of a long name (--log for --logfile).
      const name = findOption(typed) ? typed : (uniquePrefix(typed) ?? typed);
      const spec = findOption(name);
      if (spec === undefined) return fail(unknown(typed));
      const long = canonicalName(spec);
      if (!spec.takesValue) {
        if (eq >= 0) return fail(`${name} takes no value (got "${token.slice(eq + 1)}")`);
        out.push(name);
      } else if (eq >= 0) {
        bind(name, token.slice(eq + 1));
      } else {
        if (i + 1 >= argv.length) return fail(`${name}: missing value (${example(long)})`);
        bind(name, argv[++i]!);
      }
      continue;
    }
    if (token.startsWith('-') && token.length > 1) {
      // A cluster of short options: flags, then at most one option taking the rest as its value.
      for (let j = 1; j < token.length; j++) {
        const short = `-${token[j]}`;
        const spec = findOption(short);
        if (spec === undefined) return fail(j === 1 ? unknown(short) : `${short} (in "${token}") is not an option`);
        const long = canonicalName(spec);
        if (!spec.takesValue) {
          out.push(short);
          continue;
        }
        const rest = token.slice(j + 1).replace(/^=/, '');
        if (rest !== '') bind(typedName(short, long), rest);
        else if (i + 1 < argv.length) bind(typedName(short, long), argv[++i]!);
        else return fail(`${short}: missing value (${example(long)})${short === '-h' ? '; for help, --help' : ''}`);
        break;
      }
      continue;
    }
    return fail(stray(token));
  }
  return { ok: true, argv: out };
}

function fail(message: string): ParsedArgv {
  return { ok: false, message };
}

const LONG_NAMES = SERVE_OPTIONS.map(canonicalName);

/** The one long name that starts with `prefix`, if exactly one does. */
function uniquePrefix(prefix: string): string | undefined {
  const matches = LONG_NAMES.filter((name) => name.startsWith(prefix));
  return prefix.length > 2 && matches.length === 1 ? matches[0] : undefined;
}

function unknown(name: string): string {
  const guess = closest(name, LONG_NAMES);
  const near = guess !== undefined && distance(name, guess) <= Math.max(2, Math.floor(name.length / 4));
  return `unknown option ${name}${near ? `; did you mean ${guess}?` : ''}`;
}

function stray(token: string): string {
  if (TWISTD_WORDS.has(token.toLowerCase())) {
    return `"${token}" belongs to a twistd command line: drop "twistd [its options] mediacastserver" and pass the options that follow it`;
  }
  return (
    `unexpected argument "${token}": every value belongs to an option (such as --path DIR); ` +
    'a value with spaces needs quotes'
  );
}

function example(long: string): string {
  const spec = findOption(long)!;
  const match = /Examples?: `([^`]*)`/.exec(spec.description);
  return match ? `e.g. ${match[1]}` : 'see --help';
}
