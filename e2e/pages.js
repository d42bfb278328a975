// What every browser test file shares: one Warren per test file (harness.js: started before
// the file's tests, stopped after them) and helpers that drive the SPA the way a user does.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { after, before } from "node:test";
import { SHOTS, start } from "./harness.js";

/** The running servers and browser of this test file (see harness.js `start`). */
export const env = {};
let shotPrefix = "";
let shots = 0;

/** Starts Warren, the SPA and Chromium for this file's tests; screenshots and logs get
 *  `name` first. */
export function useWarren(name) {
  shotPrefix = name;
  before(async () => {
    Object.assign(env, await start(name));
  });
  after(async () => {
    await env.stop?.();
  });
}

export function newUser(label) {
  const id = randomUUID().slice(0, 8);
  return {
    email: `${label}-${id}@example.com`,
    password: `correct horse ${id} staple`,
    full_name: `Ada ${label} ${id}`,
  };
}

/** Warren's API from Node (no Origin): body transport, like a native app. */
export async function api(method, route, { json, token, body, headers = {} } = {}) {
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${env.api}${route}`, { method, headers, body });
  const type = response.headers.get("content-type") ?? "";
  return { status: response.status, body: type.includes("json") ? await response.json() : null };
}

export async function signedUp(label) {
  const user = newUser(label);
  const created = await api("POST", "/api/v1/auth/signup", { json: user });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return user;
}

export async function apiToken(user) {
  const signin = await api("POST", "/api/v1/auth/signin", { json: { email: user.email, password: user.password } });
  assert.equal(signin.status, 200, JSON.stringify(signin.body));
  return signin.body.access_token;
}

export async function shot(page, name) {
  shots += 1;
  const file = path.join(SHOTS, `${shotPrefix}-${String(shots).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

export async function expectText(page, selector, text, timeout = 10_000) {
  try {
    await page.waitForFunction(
      ([selector, text]) => document.querySelector(selector)?.textContent.includes(text),
      [selector, text],
      { timeout },
    );
  } catch {
    const actual = await page.locator(selector).textContent().catch(() => "(absent)");
    assert.fail(`${selector} should contain ${JSON.stringify(text)} but reads ${JSON.stringify(actual)}`);
  }
}

/** Which view is showing, by its heading. */
export async function expectView(page, heading, timeout = 10_000) {
  await expectText(page, "section:not([hidden]) h1", heading, timeout);
}

/** Opens the sign-in page and submits the email and password. */
export async function submitPassword(page, user) {
  await page.goto(`${env.spaUrl}/signin`);
  await expectView(page, "Sign in");
  await page.fill("#signin-email", user.email);
  await page.fill("#signin-password", user.password);
  await page.click("#signin-form button[type=submit]");
}

export async function signInPage(page, user) {
  await submitPassword(page, user);
  await expectView(page, "Your profile");
  await liveEvents(page);
}

/** A tab that opens the SPA while the context holds a refresh cookie is signed in at once. */
export async function restoredTab(context) {
  const page = await context.newPage();
  await page.goto(env.spaUrl);
  await expectView(page, "Your profile");
  await liveEvents(page);
  return page;
}

export async function liveEvents(page) {
  await page.locator('#live[data-state="open"]').waitFor({ state: "attached", timeout: 10_000 });
}

