/**
 * The floor under shaped serving: uWS alone, no file, no buckets, writing every response a chunk
 * of CHUNK bytes every INTERVAL ms from one timer (what the pacer does at its best), corked, with
 * backpressure respected. Run as `node write-floor.js CHUNK INTERVAL`; prints `port N` once it
 * listens on 127.0.0.1 and stops on SIGTERM.
 */
import { loadUws, type HttpResponse } from '../../native-bindings/uws.js';

const [chunkText = '5000', intervalText = '10'] = process.argv.slice(2);
const chunk = Buffer.alloc(Number(chunkText), 7);
const TOTAL = 1e12;
const uws = loadUws();

interface Flow {
  readonly res: HttpResponse;
  sent: number;
  blocked: boolean;
  gone: boolean;
}

const flows = new Set<Flow>();
const app = uws.App();
app.any('/*', (res) => {
  const flow: Flow = { res, sent: 0, blocked: false, gone: false };
  res.onAborted(() => {
    flow.gone = true;
    flows.delete(flow);
  });
  res.onWritable(() => {
    flow.blocked = false;
    return true;
  });
  res.cork(() => res.writeStatus('200 OK'));
  flows.add(flow);
});

const timer = setInterval(() => {
  for (const flow of flows) {
    if (flow.gone || flow.blocked) continue;
    flow.res.cork(() => {
      const [ok] = flow.res.tryEnd(chunk, TOTAL);
      flow.sent = flow.res.getWriteOffset();
      if (!ok) flow.blocked = true;
    });
  }
}, Number(intervalText));

app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) throw new Error('write-floor: could not listen');
  process.stdout.write(`port ${uws.us_socket_local_port(socket)}\n`);
  process.on('SIGTERM', () => {
    clearInterval(timer);
    uws.us_listen_socket_close(socket);
    app.close();
    process.exit(0);
  });
});
