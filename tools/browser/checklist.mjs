#!/usr/bin/env node
// The README's picture of the election-readiness checklist, taken in the Microsoft 365 Agents
// Playground with Debian's headless Chromium: the Playground's user (an admin) sends the
// announcement to its own chat ("utskick skicka", "Skicka nu"), ticks two items, marks one
// platform "Används inte", presses "Spara", and the card is photographed after it updated in place.
//
//   node checklist.mjs --url http://127.0.0.1:<playground port> --out docs/readiness-checklist.png
//
// Run through `python -m tests.readiness_screenshot` (it starts the bot and the Playground).
// Prints a JSON summary; exit 1 when the page could not be driven.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { COMPOSE, openPlayground, run } from './playground.mjs';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    out: { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
    timeout: { type: 'string', default: '30000' },
  },
});
if (!opts.url || !opts.out) {
  console.error('usage: node checklist.mjs --url http://127.0.0.1:<port> --out FILE.png');
  process.exit(2);
}
const TIMEOUT = Number(opts.timeout);
const summary = { url: opts.url, out: opts.out, steps: [], card_before: null, card_after: null, error: null };

async function say(page, text) {
  const compose = page.locator(COMPOSE);
  await compose.click();
  await compose.pressSequentially(text);
  await page.keyboard.press('Enter');
  summary.steps.push(`said ${text}`);
}

// The newest rendered card whose text includes `needle`.
function cardWith(page, needle) {
  return page.locator('.ac-adaptiveCard', { hasText: needle }).last();
}

async function main() {
  const { page, close } = await openPlayground({
    url: opts.url,
    executablePath: opts.chromium,
    timeout: TIMEOUT,
    viewport: { width: 1280, height: 1400 },
    // the card's DATE/TIME show in the reader's language and zone, as in Teams
    contextOptions: { locale: 'sv-SE', timezoneId: 'Europe/Stockholm', deviceScaleFactor: 1 },
  });
  try {
    await page.waitForTimeout(2000); // the greeting registers the chat and arrives first

    await say(page, 'utskick skicka');
    const confirm = cardWith(page, 'Skicka utskick?');
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Skicka nu' }).click();
    summary.steps.push('pressed Skicka nu');

    const checklist = cardWith(page, 'Checklista inför');
    await checklist.waitFor();
    await page.waitForTimeout(1500);
    summary.card_before = (await checklist.innerText()).trim();

    // Tick two items, mark LinkedIn "Används inte", save.
    for (const label of ['Tvåfaktorsinloggning är påslagen på Facebook', 'Någon är utsedd att hålla koll']) {
      await checklist.getByText(label, { exact: false }).first().click();
      summary.steps.push(`ticked ${label}`);
    }
    // LinkedIn: "Vi använder inte LinkedIn" (a native <select>, or the Playground's own dropdown).
    const select = checklist.locator('select').nth(2);
    if (await select.count()) {
      await select.selectOption({ label: 'Vi använder inte LinkedIn' });
    } else {
      await checklist.getByRole('combobox').nth(2).click();
      await page.getByRole('option', { name: 'Vi använder inte LinkedIn' }).click();
    }
    summary.steps.push('LinkedIn: Vi använder inte');
    await checklist.getByRole('button', { name: 'Spara' }).click();
    summary.steps.push('pressed Spara');
    await page.getByText('Klart – Alex Wilber').first().waitFor();
    await page.waitForTimeout(1500);
    const updated = cardWith(page, 'Checklista inför');
    summary.card_after = (await updated.innerText()).trim();
    await updated.scrollIntoViewIfNeeded();
    fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
    await updated.screenshot({ path: opts.out });
  } catch (error) {
    summary.chat = await page.locator('.ac-adaptiveCard').allInnerTexts().catch(() => null);
    await page.screenshot({ path: `${opts.out}.failed.png`, fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await close();
  }
}

await run(main, summary);
