// What the Playground scripts share: Debian's headless Chromium opened on the Microsoft 365
// Agents Playground page (log panel closed, chat ready), and the one JSON summary they print.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const COMPOSE = '[data-lexical-editor="true"][role="textbox"]';

// Opens the page with a throw-away profile; `close()` shuts the browser and deletes the profile.
export async function openPlayground({ url, executablePath, timeout, viewport, contextOptions = {} }) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport,
    timeout: timeout * 2,
    ...contextOptions,
  });
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(timeout);
    await page.goto(url, { waitUntil: 'networkidle', timeout: timeout * 2 });
    await page.locator(COMPOSE).waitFor({ state: 'visible' });
    // The protocol log panel takes a third of the page; the conversation is what the pictures are for.
    const logToggle = page.locator('button[title="Toggle Log Panel"]');
    if (await logToggle.count() && await page.getByText('Log Panel', { exact: true }).first().isVisible()) {
      await logToggle.first().click();
    }
    return { context, page, close };
  } catch (error) {
    await close();
    throw error;
  }
}

// Runs `main`, prints `summary` as JSON either way; exit 1 (with the error in the summary) when
// the browser or the page failed.
export async function run(main, summary) {
  try {
    await main();
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } catch (error) {
    summary.error = String(error && error.stack ? error.stack : error);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    process.exit(1);
  }
}
