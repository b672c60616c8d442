/**
 * Dropping root after the listeners are open (`--run-as USER[:GROUP]`, as nginx's `user`): from
 * then on every file is opened with that account's permissions, so a hole in path handling can
 * reach no more than that account can read. setuid/setgid from the main thread apply to every
 * thread of the process (glibc broadcasts them), worker threads included.
 */
import { readFileSync } from 'node:fs';
import { StartupError, StartupErrorCode } from '../config/errors.js';
import type { RunAsPlan } from '../config/plan.js';

/** The account to run as, resolved. */
export interface Identity {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups: the primary one and those listing the account as a member. */
  readonly groups: readonly number[];
}

/** Where names are looked up (files, not NSS: numeric ids work with any user database). */
export interface AccountFiles {
  readonly passwd: string;
  readonly group: string;
}

const SYSTEM_FILES: AccountFiles = { passwd: '/etc/passwd', group: '/etc/group' };

/**
 * Resolves `--run-as` before anything listens, so a typo is one line at startup rather than a
 * failure after the ports are taken. Throws a StartupError.
 */
export function resolveIdentity(runAs: RunAsPlan, files: AccountFiles = SYSTEM_FILES): Identity {
  const numeric = /^\d+$/.test(runAs.user);
  const entry = readTable(files.passwd).find((row) => (numeric ? row[2] : row[0]) === runAs.user);
  if (!entry && !numeric) throw new StartupError(StartupErrorCode.Privileges, `--run-as: no user "${runAs.user}" in ${files.passwd}`);
  const uid = Number(numeric ? runAs.user : entry![2]);
  if (uid === 0) throw new StartupError(StartupErrorCode.Privileges, '--run-as: running as root is what --run-as is meant to avoid');
  let gid: number;
  if (runAs.group !== undefined) {
    const group = /^\d+$/.test(runAs.group) ? runAs.group : readTable(files.group).find((row) => row[0] === runAs.group)?.[2];
    if (group === undefined) throw new StartupError(StartupErrorCode.Privileges, `--run-as: no group "${runAs.group}" in ${files.group}`);
    gid = Number(group);
  } else if (entry) {
    gid = Number(entry[3]);
  } else {
    throw new StartupError(StartupErrorCode.Privileges, `--run-as: uid ${uid} has no entry in ${files.passwd}; give its group too (UID:GID)`);
  }
  const name = entry?.[0];
  const member = readTable(files.group)
    .filter((row) => name !== undefined && (row[3] ?? '').split(',').includes(name))
    .map((row) => Number(row[2]));
  return { uid, gid, groups: [...new Set([gid, ...member])] };
}

/**
 * Node versions whose io_uring rings, created before setuid(), keep root's credentials for the
 * file operations they carry afterwards (CVE-2024-22017): dropping privileges there is a lie.
 */
export function setuidIsSafe(version = process.versions.node, env = process.env): boolean {
  if (env['UV_USE_IO_URING'] === '1') return false;
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  const atLeast = (m: number, p: number): boolean => minor > m || (minor === m && patch >= p);
  if (major === 20) return atLeast(11, 1);
  if (major === 21) return atLeast(6, 2);
  return major > 21;
}

/** Refuses, before anything listens, a switch that could not happen or would not hold. */
export function checkCanSwitch(identity: Identity): void {
  if (!runningAsRoot()) {
    if (process.getuid?.() === identity.uid) return;
    throw new StartupError(StartupErrorCode.Privileges, `--run-as needs the server to be started as root (it runs as uid ${process.getuid?.()})`);
  }
  if (!setuidIsSafe()) {
    throw new StartupError(
      StartupErrorCode.Privileges,
      `--run-as: Node ${process.versions.node} keeps root's rights in its io_uring file operations after the switch (CVE-2024-22017); ` +
        'use Node 20.11.1, 21.6.2 or newer, without UV_USE_IO_URING=1',
    );
  }
}

/** True when this process runs as root (and so should drop privileges once listening). */
export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Drops to `identity` for good: supplementary groups, then group, then user. Throws a StartupError. */
export function dropPrivileges(identity: Identity): void {
  try {
    process.setgroups!(identity.groups);
    process.setgid!(identity.gid);
    process.setuid!(identity.uid);
  } catch (error) {
    throw new StartupError(StartupErrorCode.Privileges, `--run-as: cannot switch to uid ${identity.uid}, gid ${identity.gid}: ${(error as Error).message}`);
  }
  if (process.getuid!() !== identity.uid || process.geteuid!() !== identity.uid) {
    throw new StartupError(StartupErrorCode.Privileges, `--run-as: still running as uid ${process.geteuid!()} after switching`);
  }
}

function readTable(path: string): string[][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new StartupError(StartupErrorCode.Privileges, `--run-as: cannot read ${path}: ${(error as Error).message}`);
  }
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}
