/**
 * The manual, in two forms made from the one option table: the `--help` text (wrapped to 100
 * columns) and a man page in roff (`man mediacast`, written at build time). Pure.
 */
import { OPTION_GROUPS, SERVE_OPTIONS, type OptionSpec } from '../config/option-table.js';

const WIDTH = 100;
const NAME_COLUMN = 30;

const SUMMARY = 'a static media server (HLS, DASH, HDS) that limits bandwidth per server, virtual host and client';
const USAGE = 'mediacast [serve] [options]';

const INTRO = [
  'Options apply in the order given: each one configures the server started by the latest -h (the ' +
    'first server before any), or the virtual host declared by the latest -v on that server. This is ' +
    'how the original Mediacast Server (a Python/Twisted twistd plugin, whose command lines this ' +
    'version keeps) read them. Values follow the option (-p 8080, -p8080, --port=8080). With --config, ' +
    'the file comes first and the command line extends or overrides it.',
  'Load testing: mediacast load URL [options] runs simulated HLS/DASH players against a server and ' +
    'reports what viewers would have seen (startup, stalls, bitrate, switches); mediacast bench [URL] ' +
    'runs the bundled autocannon scenarios against a server (or the bundled demo); each has --help.',
  'Control: a server started with --admin takes mediacast ctl COMMAND (servers, clients, rate, clear, ' +
    'schedule, unschedule, schedules, pause) to change its limits while it serves; ctl --help lists them.',
];

const EXIT_STATUS: ReadonlyArray<[string, string]> = [
  ['0', 'clean shutdown (after SIGINT or SIGTERM), or --print-config, --help, --version'],
  ['1', 'the environment refused to start it (port in use, unreadable root, bad certificate, --run-as), or every worker died after --run-as'],
  ['2', 'a bad command line or config file (the message names the option or key and what was expected)'],
];

const SIGNALS: ReadonlyArray<[string, string]> = [
  ['SIGINT, SIGTERM', 'stop accepting, let responses in flight finish within --shutdown-timeout, exit 0; a second one stops at once'],
  ['SIGHUP', 'reopen the access log (after a log rotator moved it)'],
];

const EXAMPLES: ReadonlyArray<[string, string]> = [
  ['Serve the current directory on port 8080', 'mediacast'],
  ['Serve ./media on 127.0.0.1:9000, 4 Mbit/s per client, 40 Mbit/s in all', 'mediacast --path ./media -p tcp:9000:interface=127.0.0.1 -s 40Mbit,4Mbit'],
  ['Two servers, one with a virtual host of its own limit', 'mediacast --path a -v one.local --path b -s 1MB -h 8081 --path c'],
  ['Serve over TLS', 'mediacast --path ./media -p ssl:8443:privateKey=key.pem:certKey=cert.pem'],
];

/** An option's names as typed, with its value form: `-p, --port DESC`. */
export function optionUsage(spec: OptionSpec): string {
  return `${spec.names.join(', ')}${spec.valueName ? ` ${spec.valueName}` : ''}`;
}

/** The description without its examples, and the examples (the backquoted parts after "Example"). */
export function splitDescription(spec: OptionSpec): { text: string; examples: string[] } {
  const at = spec.description.search(/\s*Examples?: /);
  if (at < 0) return { text: spec.description, examples: [] };
  const examples = [...spec.description.slice(at).matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  return { text: spec.description.slice(0, at), examples };
}

/** The `--help` text. */
export function renderHelp(version: string): string {
  const out: string[] = [`Mediacast Server ${version}:`, `${SUMMARY}.`, '', `Usage: ${USAGE}`, ''];
  for (const paragraph of INTRO) out.push(...wrap(paragraph, WIDTH), '');
  for (const [group, title] of Object.entries(OPTION_GROUPS)) {
    out.push(`${title}:`);
    for (const spec of SERVE_OPTIONS.filter((s) => s.group === group)) {
      const { text, examples } = splitDescription(spec);
      const body = [...wrap(text, WIDTH - NAME_COLUMN), ...examples.map((e) => `e.g. ${e}`).flatMap((e) => wrap(e, WIDTH - NAME_COLUMN))];
      const head = `  ${optionUsage(spec)}`;
      const [first, ...rest] = body;
      if (head.length < NAME_COLUMN - 1) out.push(head.padEnd(NAME_COLUMN) + first);
      else out.push(head, ' '.repeat(NAME_COLUMN) + first);
      for (const line of rest) out.push(' '.repeat(NAME_COLUMN) + line);
    }
    out.push('');
  }
  out.push('  --help, --version           this text; the version', '');
  out.push('Exit status:');
  for (const [code, meaning] of EXIT_STATUS) out.push(...hanging(`  ${code}`, meaning, 6));
  out.push('', 'Signals:');
  for (const [signal, meaning] of SIGNALS) out.push(...hanging(`  ${signal}`, meaning, 19));
  out.push('', 'Examples:');
  for (const [title, command] of EXAMPLES) out.push(`  ${title}:`, `    $ ${command}`);
  out.push('', 'The README has the whole manual: shaping semantics, the config file, benchmarks.', '');
  return out.join('\n');
}

/** The man page, in roff (man macros). */
export function renderManPage(version: string): string {
  const out: string[] = [
    `.TH MEDIACAST 1 "" "mediacast ${version}" "User Commands"`,
    '.SH NAME',
    `mediacast \\- ${roff(SUMMARY)}`,
    '.SH SYNOPSIS',
    `.B mediacast\n[\\fBserve\\fR] [\\fIoptions\\fR]`,
    '.SH DESCRIPTION',
    ...INTRO.map(roff),
  ];
  for (const [group, title] of Object.entries(OPTION_GROUPS)) {
    out.push(`.SH ${roff(title.toUpperCase())}`);
    for (const spec of SERVE_OPTIONS.filter((s) => s.group === group)) {
      const { text, examples } = splitDescription(spec);
      const names = spec.names.map((n) => `\\fB${roff(n)}\\fR`).join(', ');
      out.push('.TP', `${names}${spec.valueName ? ` \\fI${roff(spec.valueName)}\\fR` : ''}`, roff(text));
      for (const example of examples) out.push('.br', `Example: \\fB${roff(example)}\\fR`);
    }
  }
  out.push('.SH EXIT STATUS');
  for (const [code, meaning] of EXIT_STATUS) out.push('.TP', `\\fB${code}\\fR`, roff(meaning));
  out.push('.SH SIGNALS');
  for (const [signal, meaning] of SIGNALS) out.push('.TP', `\\fB${roff(signal)}\\fR`, roff(meaning));
  out.push('.SH EXAMPLES');
  for (const [title, command] of EXAMPLES) out.push(roff(title), '.PP', '.RS', `\\fB${roff(command)}\\fR`, '.RE');
  out.push('');
  return out.join('\n');
}

/** Words of `text` in lines of at most `width` columns (a longer word stands alone). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

function hanging(head: string, text: string, column: number): string[] {
  const [first = '', ...rest] = wrap(text, WIDTH - column);
  return [`${head.padEnd(column)}${first}`, ...rest.map((line) => ' '.repeat(column) + line)];
}

/** Escapes text for roff: backslashes, and a leading dot or quote that would read as a request. */
function roff(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1').replace(/`/g, '');
}
