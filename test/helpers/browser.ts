/**
 * Headless Chromium for tests of pages (playwright-core drives the system's Chromium; nothing is
 * downloaded). Null when no Chromium is installed: the test says so and skips.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { PNG } from 'pngjs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string | null {
  return [process.env.CHROMIUM_PATH, ...CANDIDATES].find((path): path is string => path !== undefined && existsSync(path)) ?? null;
}

export async function launchChromium(): Promise<Browser | null> {
  const executablePath = chromiumPath();
  if (executablePath === null) return null;
  // Closed network: Chromium's own background connections are switched off.
  return chromium.launch({
    executablePath,
    // Pages in other tabs (a dashboard beside a player) keep their timers at full rate.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
  });
}

/** The share of a PNG's pixels that differ from its first pixel (0: blank). */
export function nonBlankShare(png: Buffer): number {
  const image = PNG.sync.read(png);
  const { data } = image;
  let differing = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) differing++;
  }
  return differing / (image.width * image.height);
}
