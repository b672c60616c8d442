/**
 * `mediacast load URL`: simulated streaming players against an HLS or DASH URL (load/run-load.ts).
 * Exit status: 0, 1 when a --fail-on condition holds (or every player failed), 2 for a bad
 * command line.
 */
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'clipanion';
import { DEFAULT_ABR } from '../load/abr.js';
import { CommandOptionError, parseDuration, parseRate, readOptions, wholeNumber } from '../config/command-values.js';
import { readUplotAssets } from '../charts/uplot-assets.js';
import { parseAbr, parseBuffer, parseFailOn, parseSourceRange } from '../load/load-options.js';
import { DEFAULT_BUFFER } from '../load/playback-buffer.js';
import { formatSummary, runLoad, type LoadPlan } from '../load/run-load.js';

export class LoadCommand extends Command {
  static override paths = [['load']];

  static override usage = Command.Usage({
    description: 'Simulated streaming players (HLS, DASH) with QoE figures.',
    examples: [['50 players for 30 s', 'mediacast load http://127.0.0.1:8080/master.m3u8 --players 50 --duration 30s']],
  });

  url = Option.String({ required: true });
  players = Option.String('--players', '10', { description: 'Players to simulate. Example: `--players 50`' });
  ramp = Option.String('--ramp', '0s', { description: 'Start the players evenly over this time. Example: `--ramp 10s`' });
  duration = Option.String('--duration', '60s', { description: 'How long the run lasts. Example: `--duration 2m`' });
  loops = Option.String('--loops', '0', { description: 'Sessions per player at most (0: until --duration ends). Example: `--loops 1`' });
  source = Option.String('--source', { description: 'Local addresses, one per player in turn (per-IP shaping per viewer). Example: `--source 127.0.0.2-127.0.0.250`' });
  clientIdHeader = Option.String('--client-id-header', { description: 'Send this header with viewer-N per player. Example: `--client-id-header X-Viewer-Id`' });
  threads = Option.String('--threads', String(Math.max(1, availableParallelism() - 1)), { description: 'Simulator threads (piscina). Example: `--threads 2`' });
  abr = Option.String('--abr', 'throughput', { description: 'throughput (hls.js) or buffer, with parameters. Example: `--abr throughput:fast=3,slow=9,factor=0.95,up=0.7`' });
  buffer = Option.String('--buffer', '', { description: 'Seconds: startup, target, resume. Example: `--buffer startup=2,target=30,resume=2`' });
  cmcd = Option.String('--cmcd', { description: 'Send CTA-5004 CMCD keys (version 1) as a query parameter or headers. Example: `--cmcd query`' });
  json = Option.String('--json', { description: 'Write the summary and one record per player. Example: `--json report.json`' });
  csv = Option.String('--csv', { description: 'Write one row per session. Example: `--csv sessions.csv`' });
  html = Option.String('--html', { description: 'Write a self-contained report with charts. Example: `--html report.html`' });
  p1203 = Option.String('--p1203', { description: 'Write one ITU-T P.1203 mode 0 input per session (JSON Lines). Example: `--p1203 sessions.jsonl`' });
  limit = Option.String('--limit', { description: 'The per-viewer rate the server shapes to (as --shape), drawn in the HTML report. Example: `--limit 150kB`' });
  failOn = Option.String('--fail-on', { description: 'Exit 1 when a condition holds. Example: `--fail-on stalls>0,startup.p95>2s`' });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const plan = readOptions('load', stderr, () => this.#plan());
    if (plan === null) return 2;
    const tty = Boolean((stdout as NodeJS.WriteStream).isTTY);
    stdout.write(`mediacast load: ${plan.players} players on ${plan.threads} threads, ${plan.durationMs / 1000} s, ${this.url}\n`);
    const outcome = await runLoad(plan, {
      print: (line) => stdout.write(`${line}\n`),
      progress: tty ? (line) => stdout.write(`\r\x1b[K${line}`) : null,
    });
    if (tty) stdout.write('\r\x1b[K');
    stdout.write(`${formatSummary(outcome.summary)}\n`);
    const failures = outcome.players.filter((player) => player.failure !== null);
    if (failures.length > 0) stderr.write(`mediacast load: ${failures.length} players failed, e.g. ${failures[0]!.failure}\n`);
    for (const condition of outcome.failed) stderr.write(`mediacast load: --fail-on ${condition.text} holds\n`);
    for (const error of outcome.reportErrors) stderr.write(`mediacast load: ${error}\n`);
    if (outcome.p1203Unscorable > 0) {
      stderr.write(`mediacast load: --p1203: ${outcome.p1203Unscorable} sessions lack a codec, resolution or frame rate in the manifest, or use a codec outside P.1203 (h264 video; AAC, AC-3 or MPEG audio): add or map them before scoring\n`);
    }
    return outcome.failed.length > 0 || failures.length === plan.players || outcome.reportErrors.length > 0 ? 1 : 0;
  }

  #plan(): LoadPlan {
    let url: URL;
    try {
      url = new URL(this.url);
    } catch {
      throw new CommandOptionError(`"${this.url}" is not a URL (expected e.g. http://127.0.0.1:8080/master.m3u8)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CommandOptionError(`"${this.url}": only http and https URLs are played`);
    const durationMs = parseDuration(this.duration, '--duration');
    if (durationMs <= 0 || durationMs > 24 * 3_600_000) throw new CommandOptionError('--duration: expected more than 0 and at most 24 h');
    if (this.source !== undefined && this.clientIdHeader !== undefined) throw new CommandOptionError('--source and --client-id-header: give one way to tell viewers apart');
    const rampMs = parseDuration(this.ramp, '--ramp');
    if (rampMs >= durationMs) throw new CommandOptionError(`--ramp: ${this.ramp} is not shorter than --duration ${this.duration} (the last players would never start)`);
    if (this.cmcd !== undefined && this.cmcd !== 'query' && this.cmcd !== 'headers') throw new CommandOptionError(`--cmcd: "${this.cmcd}" (expected query or headers)`);
    if (this.limit !== undefined && this.html === undefined) throw new CommandOptionError('--limit is drawn in the HTML report: give --html FILE too');
    const plan: LoadPlan = {
      url: url.href,
      players: wholeNumber(this.players, '--players', 1, 100_000),
      rampMs,
      durationMs,
      loops: wholeNumber(this.loops, '--loops', 0, 1_000_000),
      sources: this.source === undefined ? null : parseSourceRange(this.source, '--source'),
      clientIdHeader: this.clientIdHeader ?? null,
      threads: wholeNumber(this.threads, '--threads', 1, 256),
      abr: this.abr === 'throughput' ? DEFAULT_ABR : parseAbr(this.abr, '--abr'),
      buffer: this.buffer === '' ? DEFAULT_BUFFER : parseBuffer(this.buffer, '--buffer'),
      cmcd: (this.cmcd as 'query' | 'headers' | undefined) ?? null,
      jsonFile: this.json ?? null,
      csvFile: this.csv ?? null,
      // The chart library is read now: a broken install fails at once, not after the run.
      html: this.html === undefined ? null : { file: this.html, assets: readUplotAssets(), limit: this.limit === undefined ? null : parseRate(this.limit, '--limit') },
      p1203File: this.p1203 ?? null,
      failOn: this.failOn === undefined ? [] : parseFailOn(this.failOn, '--fail-on'),
    };
    checkReportFiles([['--json', this.json], ['--csv', this.csv], ['--html', this.html], ['--p1203', this.p1203]]);
    return plan;
  }
}

/**
 * Report files are found writable now, not after the whole run, and only once every other option
 * is known good; an existing file is not truncated yet. One file for two reports is refused.
 */
function checkReportFiles(files: ReadonlyArray<readonly [string, string | undefined]>): void {
  const seen = new Map<string, string>();
  for (const [option, file] of files) {
    if (file === undefined) continue;
    const other = seen.get(resolve(file));
    if (other !== undefined) throw new CommandOptionError(`${option} and ${other}: both name ${file}`);
    seen.set(resolve(file), option);
    try {
      closeSync(openSync(file, 'a'));
    } catch (error) {
      throw new CommandOptionError(`${option}: cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
}

