/**
 * Build step: writes the man page (dist/man/mediacast.1, named by package.json `man`) from the
 * option table, so `man mediacast` after `npm install -g .` says what `--help` says.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { VERSION } from '../version.js';
import { renderManPage } from './manual.js';

const target = new URL('../../man/mediacast.1', import.meta.url);
mkdirSync(new URL('.', target), { recursive: true });
writeFileSync(target, renderManPage(VERSION));
