#!/usr/bin/env node
// Drives the Microsoft 365 Agents Playground page in headless Chromium, as a person would:
// ask a question, count what the bot shows, press a card button, press 👍.
//
//   node drive.mjs --url http://127.0.0.1:<playground port> [--question "..."] [--artifacts DIR]
//                  [--chromium /usr/bin/chromium] [--timeout 20000]
//
// Prints one JSON summary on stdout; screenshots go to --artifacts (default tests/artifacts).
// Exit status 0 when the page could be driven (whatever the bot did: the caller judges the
// summary), 1 when the browser or the page itself failed (the summary's "error" says why).
// Uses Debian's Chromium through playwright-core; never downloads a browser.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { COMPOSE, openPlayground, run } from './playground.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    question: { type: 'string', default: 'hur slår jag på tvåfaktor på instagram?' },
    artifacts: { type: 'string', default: path.resolve(HERE, '..', '..', 'tests', 'artifacts') },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
    timeout: { type: 'string', default: '20000' },
    quiet: { type: 'string', default: '2000' },
  },
});
if (!opts.url) {
  console.error('usage: node drive.mjs --url http://127.0.0.1:<port> [--question TEXT] [--artifacts DIR]');
  process.exit(2);
}
const TIMEOUT = Number(opts.timeout);
const QUIET = Number(opts.quiet); // the chat counts as settled after this long without change

const THUMBS_UP = '👍';
const THUMBS_DOWN = '👎';

const summary = {
  url: opts.url,
  question: opts.question,
  messages_before_question: null,
  messages_after_question: null, // bot messages that arrived for the question
  cards: null, // rendered Adaptive Cards in those messages
  answer: [], // those messages: {text, cards, buttons}
  clicked: null, // {title, messages, cards, answer} for the card button pressed
  feedback: null, // {found, messages_before, messages_after, card_before, card_after, changed, thanks}
  screenshots: [],
  error: null,
};

// Every message in the chat pane, oldest first: who wrote it, its text, its cards and their buttons.
// A message is the largest element holding exactly one "Message header" (the Playground's markup).
function readChat() {
  const headers = [...document.querySelectorAll('[aria-label="Message header"]')];
  return headers.map((header) => {
    let message = header;
    while (message.parentElement
           && message.parentElement.querySelectorAll('[aria-label="Message header"]').length === 1) {
      message = message.parentElement;
    }
    const author = header.querySelector('[aria-label="Message author"]');
    const cards = [...message.querySelectorAll('.ac-adaptiveCard')];
    return {
      author: author ? author.innerText.trim() : null,
      text: message.innerText.replace(header.innerText, '').trim(),
      cards: cards.length,
      cardText: cards.map((card) => card.innerText.trim()).join('\n---\n'),
      buttons: cards.flatMap((card) => [...card.querySelectorAll('button')].map((b) => ({
        title: (b.getAttribute('aria-label') || b.innerText || '').trim(),
        link: b.getAttribute('role') === 'link',
        url: b.getAttribute('role') === 'link' ? b.getAttribute('title') : null,
      }))),
    };
  });
}

// Bot messages are the ones with an author line (the user's own have none).
const botMessages = (chat) => chat.filter((m) => m.author !== null);

async function chat(page) {
  return page.evaluate(readChat);
}

// Waits until `ready(chat)` holds, then until the chat stops changing for QUIET ms.
async function settle(page, ready = () => true) {
  const deadline = Date.now() + TIMEOUT;
  let last = null;
  let since = Date.now();
  let seenReady = false;
  for (;;) {
    const now = await chat(page);
    const key = JSON.stringify(now);
    if (key !== last) {
      last = key;
      since = Date.now();
    }
    if (ready(now)) seenReady = true;
    if (seenReady && Date.now() - since >= QUIET) return now;
    if (Date.now() > deadline) return now;
    await page.waitForTimeout(200);
  }
}

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = path.join(opts.artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  summary.screenshots.push(file);
}

// Bot messages as the summary shows them.
function describe(messages) {
  return messages.map((m) => ({ text: m.text, cards: m.cards, buttons: m.buttons }));
}

// Clicks the card button titled `title` in the bot message at `messageIndex` (0-based, bot messages only).
async function clickButton(page, messageIndex, title) {
  const bots = page.locator('[aria-label="Message author"]');
  // Locate the message element the same way readChat does, through its header.
  const handle = await bots.nth(messageIndex).evaluateHandle((author) => {
    let message = author.closest('[aria-label="Message header"]');
    while (message.parentElement
           && message.parentElement.querySelectorAll('[aria-label="Message header"]').length === 1) {
      message = message.parentElement;
    }
    return message;
  });
  const buttons = await handle.asElement().$$('.ac-adaptiveCard button');
  for (const button of buttons) {
    const label = ((await button.getAttribute('aria-label')) || (await button.innerText()) || '').trim();
    if (label === title) {
      await button.scrollIntoViewIfNeeded();
      await button.click();
      return true;
    }
  }
  return false;
}

const isThumbsUp = (title) => title === THUMBS_UP || title.startsWith(THUMBS_UP);
const isFeedback = (title) => isThumbsUp(title) || title.startsWith(THUMBS_DOWN);

async function main() {
  fs.mkdirSync(opts.artifacts, { recursive: true });
  const { page, close } = await openPlayground({
    url: opts.url,
    executablePath: opts.chromium,
    timeout: TIMEOUT,
    viewport: { width: 1280, height: 900 },
  });
  try {
    const compose = page.locator(COMPOSE);
    // Opening the page connects the chat and may bring a greeting: let it arrive first.
    const before = botMessages(await settle(page));
    summary.messages_before_question = before.length;
    await screenshot(page, 'loaded');

    // 1. Ask.
    await compose.click();
    await compose.pressSequentially(opts.question);
    await page.keyboard.press('Enter');
    // What the bot said after the question appeared in the chat (a greeting that comes late is not
    // counted as part of the answer).
    const afterAsking = (c) => {
      const asked = c.findLastIndex((m) => m.author === null && m.text.includes(opts.question));
      return asked < 0 ? null : botMessages(c.slice(asked + 1));
    };
    const chatAfterQuestion = await settle(page, (c) => (afterAsking(c) || []).length > 0);
    const afterQuestion = botMessages(chatAfterQuestion);
    const answer = afterAsking(chatAfterQuestion) || [];
    const first = afterQuestion.length - answer.length; // index of the answer's first bot message
    summary.messages_after_question = answer.length;
    summary.cards = answer.reduce((n, m) => n + m.cards, 0);
    summary.answer = describe(answer);
    await screenshot(page, 'answer');
    if (answer.length === 0) return;

    // 2. Press a card button that asks the bot something (not a link, not feedback).
    let target = null;
    for (let i = afterQuestion.length - 1; i >= first && !target; i -= 1) {
      const button = afterQuestion[i].buttons.find((b) => !b.link && !isFeedback(b.title));
      if (button) target = { index: i, title: button.title };
    }
    let current = afterQuestion;
    if (target) {
      await clickButton(page, target.index, target.title);
      const afterClick = botMessages(await settle(page, (c) => botMessages(c).length > current.length));
      const reply = afterClick.slice(current.length);
      summary.clicked = { title: target.title, messages: reply.length,
        cards: reply.reduce((n, m) => n + m.cards, 0), answer: describe(reply) };
      current = afterClick;
      await screenshot(page, 'after-click');
    }

    // 3. Press 👍 on the newest card that has it; the same card should change in place.
    let thumbs = null;
    for (let i = current.length - 1; i >= first && !thumbs; i -= 1) {
      const button = current[i].buttons.find((b) => isThumbsUp(b.title));
      if (button) thumbs = { index: i, title: button.title };
    }
    summary.feedback = { found: Boolean(thumbs) };
    if (!thumbs) return;
    const cardBefore = current[thumbs.index].cardText;
    await clickButton(page, thumbs.index, thumbs.title);
    const afterThumbs = botMessages(await settle(page, (c) => {
      const bots = botMessages(c);
      return bots.length !== current.length || (bots[thumbs.index] || {}).cardText !== cardBefore;
    }));
    const updated = afterThumbs[thumbs.index] || { cardText: '', buttons: [], cards: 0 };
    Object.assign(summary.feedback, {
      title: thumbs.title,
      messages_before: current.length,
      messages_after: afterThumbs.length,
      cards_after: updated.cards,
      card_before: cardBefore,
      card_after: updated.cardText,
      changed: updated.cardText !== cardBefore,
      thanks: /tack/i.test(updated.cardText),
      thumbs_up_still_there: updated.buttons.some((b) => isThumbsUp(b.title)),
    });
    await page.locator('[aria-label="Message author"]').nth(thumbs.index).scrollIntoViewIfNeeded();
    await screenshot(page, 'after-thumbs-up');
  } finally {
    await close();
  }
}

await run(main, summary);
