/**
 * The floor under the player simulator: undici alone, CONNECTIONS loops downloading URL for
 * SECONDS, bytes counted and nothing kept. Run as `node undici-loop.js URL CONNECTIONS SECONDS`;
 * prints `bytes N` at the end.
 */
import { Agent } from 'undici';

const [url = '', connectionsText = '50', secondsText = '10'] = process.argv.slice(2);
const connections = Number(connectionsText);
const { origin, pathname } = new URL(url);
const agent = new Agent({ connections });
const end = performance.now() + Number(secondsText) * 1000;
let bytes = 0;

const once = (): Promise<void> =>
  new Promise((resolve, reject) => {
    agent.dispatch(
      { origin, path: pathname, method: 'GET', headers: {} },
      {
        onRequestStart: () => undefined,
        onResponseStart: () => undefined,
        onResponseData: (_controller, chunk) => void (bytes += chunk.length),
        onResponseEnd: () => resolve(),
        onResponseError: (_controller, error) => reject(error),
      },
    );
  });

await Promise.all(
  Array.from({ length: connections }, async () => {
    while (performance.now() < end) await once();
  }),
);
await agent.close();
process.stdout.write(`bytes ${bytes}\n`);
