// Helpers for driving the console in a real browser: build the web app once into a folder, launch
// Debian's Chromium through playwright-core, and check a page with axe.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

if (!hasChromium) {
  // Loud on purpose: a skipped browser test must not pass unnoticed.
  console.warn(`\n!!!!! ${CHROMIUM} not found: the console browser tests are SKIPPED. Install it: apt-get install -y chromium (.ci/run does) !!!!!\n`);
}

/** Builds the console (web/) into a fresh folder; returns that folder (served with WEB_DIR). */
export async function buildConsole(): Promise<string> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'moleapi-web-build-'));
  await build({ configFile: fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url)), build: { outDir, emptyOutDir: true }, logLevel: 'warn' });
  return outDir;
}

/** Chromium with a fresh profile folder; headless, no background traffic. */
export async function launchBrowser(viewport = { width: 1280, height: 860 }): Promise<{ context: BrowserContext; userDataDir: string }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'moleapi-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    locale: 'en-US',
    // The console then runs no animation, so axe never reads a toast half-faded (a toast starts fading
    // 3 s after it shows, which could fall inside an axe run; at 40% opacity its text fails contrast).
    reducedMotion: 'reduce',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return { context, userDataDir };
}

/** axe violations of impact serious or critical on the page as it is now, described for a failure message. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  // Belt and braces beside reducedMotion: an animation still running (none should) has a contrast of its
  // own half-way, so judge the page at rest.
  await page
    .waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity), undefined, { timeout: 3000 })
    .catch(() => undefined);
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}
