/**
 * Size of libuv's thread pool, which every worker thread shares for file opens, stats and reads.
 * libuv reads UV_THREADPOOL_SIZE once, when the pool first runs a job, and Node's ES module loader
 * runs one while loading the first module: so the size is decided from the raw command line by
 * a CommonJS entry point, before any ES module loads. A config file's `workers` is not seen here
 * (the default worker count is used).
 */

/** Pool threads per worker thread: enough that one slow disk cannot stall every worker's I/O. */
const THREADS_PER_WORKER = 4;
/** libuv's own ceiling. */
const MAX_THREADS = 1024;

/** The pool size for `argv` (`--workers N` or `--workers=N`, else `defaultWorkers`). */
export function threadPoolSize(argv: readonly string[], defaultWorkers: number): number {
  let workers = defaultWorkers;
  argv.forEach((arg, i) => {
    const value = arg === '--workers' ? argv[i + 1] : arg.startsWith('--workers=') ? arg.slice('--workers='.length) : undefined;
    if (value !== undefined && /^\d+$/.test(value) && Number(value) > 0) workers = Number(value);
  });
  return Math.min(MAX_THREADS, Math.max(4, THREADS_PER_WORKER * workers));
}
