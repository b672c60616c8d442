/**
 * `/metrics` in the Prometheus text format (version 0.0.4): per server, responses by status
 * class, body bytes, response times as a histogram, shaped bytes and writes, shaped responses
 * and clients now, the overflow count and the limits in force. Summed from the workers' counters
 * in shared memory at each scrape. Pure over that memory.
 */
import { describeListen } from '../config/strport.js';
import { liveClients, overflowFlows } from '../shaping/client-table.js';
import { kServerActiveFlows } from '../shaping/layout.js';
import { readLimits } from '../shaping/shaper-memory.js';
import { DURATION_BUCKETS, readResponseTotals, siteIndex } from '../stats/response-stats.js';
import { readTotals } from '../stats/shaping-stats.js';
import type { ControlledServer } from './controlled-server.js';

export interface MetricsMemory {
  readonly shaping: SharedArrayBuffer;
  readonly responses: SharedArrayBuffer;
  readonly workers: number;
}

/** A label value as the format wants it: backslash, quote and newline escaped. */
const label = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function metricsText(servers: readonly ControlledServer[], memory: MetricsMemory): string {
  const families = new Map<string, { help: string; type: 'counter' | 'gauge' | 'histogram'; lines: string[] }>();
  const add = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string, line: string): void => {
    const family = families.get(name) ?? { help, type, lines: [] };
    family.lines.push(line);
    families.set(name, family);
  };
  const plans = servers.map((server) => server.plan);
  for (const server of servers) {
    const id = server.plan.id;
    const labels = `server="${id}",address="${label(describeListen(server.plan.listen))}"`;
    // Per site: host="" is the server's own, else the virtual host answering.
    ['', ...server.plan.vhosts.map((vhost) => vhost.hostname)].forEach((host, site) => {
      const siteLabels = `${labels},host="${label(host)}"`;
      const responses = readResponseTotals(memory.responses, siteIndex(plans, id, site), memory.workers);
      for (const [statusClass, count] of Object.entries(responses.byClass)) {
        add('mediacast_responses_total', 'counter', 'Responses ended, by status class (aborted: the client left before a status went out).', `mediacast_responses_total{${siteLabels},class="${statusClass}"} ${count}`);
      }
      add('mediacast_response_body_bytes_total', 'counter', 'Body bytes handed to sockets.', `mediacast_response_body_bytes_total{${siteLabels}} ${responses.bodyBytes}`);
      let cumulative = 0;
      DURATION_BUCKETS.forEach((bound, i) => {
        cumulative += responses.buckets[i]!;
        add('mediacast_response_duration_seconds', 'histogram', 'Time from the request to the end of its response.', `mediacast_response_duration_seconds_bucket{${siteLabels},le="${bound === Infinity ? '+Inf' : bound}"} ${cumulative}`);
      });
      add('mediacast_response_duration_seconds', 'histogram', '', `mediacast_response_duration_seconds_sum{${siteLabels}} ${responses.durationSumSeconds}`);
      add('mediacast_response_duration_seconds', 'histogram', '', `mediacast_response_duration_seconds_count{${siteLabels}} ${cumulative}`);
    });
    const shaped = readTotals(memory.shaping, id, memory.workers);
    add('mediacast_shaped_bytes_total', 'counter', 'Bytes sent through the shaper (a server and its virtual hosts).', `mediacast_shaped_bytes_total{${labels}} ${shaped.bytes}`);
    add('mediacast_shaped_writes_total', 'counter', 'Paced writes.', `mediacast_shaped_writes_total{${labels}} ${shaped.writes}`);
    add('mediacast_token_wait_seconds_total', 'counter', 'Time shaped responses spent waiting for tokens, added up (of ended responses).', `mediacast_token_wait_seconds_total{${labels}} ${shaped.waitSeconds}`);
    server.vhosts.forEach(({ hostname, shaper }) => {
      if (shaper === null) return;
      const vhostLimits = readLimits(new BigInt64Array(shaper));
      const vhostLabels = `${labels},host="${label(hostname)}"`;
      add('mediacast_vhost_limit_bytes_per_second', 'gauge', 'Limits of virtual hosts with their own (inside the server\'s; 0: none).', `mediacast_vhost_limit_bytes_per_second{${vhostLabels},level="server"} ${vhostLimits.server.rate}`);
      add('mediacast_vhost_limit_bytes_per_second', 'gauge', '', `mediacast_vhost_limit_bytes_per_second{${vhostLabels},level="client"} ${vhostLimits.client.rate}`);
    });
    if (server.shaper === null) continue;
    const view = new BigInt64Array(server.shaper);
    const limits = readLimits(view);
    add('mediacast_shaped_responses', 'gauge', 'Shaped responses running now.', `mediacast_shaped_responses{${labels}} ${Number(Atomics.load(view, kServerActiveFlows))}`);
    add('mediacast_active_clients', 'gauge', 'Clients with a shaped response running now.', `mediacast_active_clients{${labels}} ${liveClients(view).filter((client) => client.flows > 0).length}`);
    add('mediacast_overflow_flows_total', 'counter', 'Responses that found the client table full and shared its overflow bucket.', `mediacast_overflow_flows_total{${labels}} ${overflowFlows(view)}`);
    add('mediacast_limit_bytes_per_second', 'gauge', 'Limits in force (0: none).', `mediacast_limit_bytes_per_second{${labels},level="server"} ${limits.server.rate}`);
    add('mediacast_limit_bytes_per_second', 'gauge', '', `mediacast_limit_bytes_per_second{${labels},level="client"} ${limits.client.rate}`);
  }
  const out: string[] = [];
  for (const [name, family] of families) {
    out.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`, ...family.lines);
  }
  return `${out.join('\n')}\n`;
}
