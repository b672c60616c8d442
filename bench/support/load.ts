/** autocannon, configured for benchmarks that care about bytes and rates, not body contents. */
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

/** Keeps autocannon from decoding bodies into strings (see the file). */
const DISCARD_BODY = fileURLToPath(new URL('../../../bench/support/discard-body.cjs', import.meta.url));

export function runAutocannon(options: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({
    ...options,
    // In workers mode autocannon takes a module path here; its typings only know functions.
    setupClient: DISCARD_BODY as unknown as autocannon.Options['setupClient'],
  });
}
