#!/usr/bin/env node
/**
 * The `mediacast` executable: sizes libuv's thread pool while that is still possible (see
 * thread-pool-size.cts), then loads the command line interface.
 */
import { availableParallelism } from 'node:os';
import { threadPoolSize } from './thread-pool-size.cjs';

// An explicit setting by the operator wins.
process.env['UV_THREADPOOL_SIZE'] ??= String(threadPoolSize(process.argv.slice(2), availableParallelism()));
void import('./main.js');
