// The example SPA in a real browser: CORS, the refresh cookie, racing tabs, live
// events and uploads under the rules browsers enforce. Two tabs are two pages of one browser
// context (they share the cookie); two devices are two contexts.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { test } from "node:test";
import { ACCESS_TOKEN_TTL_SECS } from "../harness.js";
import {
  apiToken, env, expectText, expectView, liveEvents, newUser, restoredTab, shot, signedUp, signInPage, useWarren,
} from "../pages.js";

useWarren("spa");

// ---- helpers ---------------------------------------------------------------------------------

/** A small real PNG, drawn by the browser itself. */
async function pngFile(page, colour) {
  const dataUrl = await page.evaluate((colour) => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 64;
    const g = canvas.getContext("2d");
    g.fillStyle = colour;
    g.fillRect(0, 0, 64, 64);
    g.fillStyle = "#f0b429";
    g.beginPath();
    g.arc(32, 32, 18, 0, 2 * Math.PI);
    g.fill();
    return canvas.toDataURL("image/png");
  }, colour);
  return { name: "avatar.png", mimeType: "image/png", buffer: Buffer.from(dataUrl.split(",")[1], "base64") };
}

async function avatarSrc(page) {
  return page.locator("#avatar").getAttribute("src");
}

/** Records every /auth/refresh answer a page gets. */
function refreshes(page) {
  const statuses = [];
  page.on("response", (response) => {
    if (response.url().endsWith("/api/v1/auth/refresh")) statuses.push(response.status());
  });
  return statuses;
}

/** The access tokens Warren hands a page (signin and refresh answers), in order. */
function issuedTokens(page) {
  const tokens = [];
  page.on("response", async (response) => {
    const url = response.url();
    const issuing = url.endsWith("/api/v1/auth/signin") || url.endsWith("/api/v1/auth/refresh");
    if (issuing && response.status() === 200) tokens.push((await response.json()).access_token);
  });
  return tokens;
}

/** The bearer tokens a page sends to Warren, in order. */
function bearerTokens(page) {
  const tokens = [];
  page.on("request", (request) => {
    const auth = request.headers().authorization;
    if (auth?.startsWith("Bearer ")) tokens.push(auth.slice(7));
  });
  return tokens;
}

/** The status of a WebSocket handshake to the events endpoint with this Origin. */
function handshakeStatus(origin, token) {
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: "127.0.0.1",
      port: env.warrenPort,
      path: "/api/v1/events",
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": Buffer.from(randomUUID().slice(0, 16)).toString("base64"),
        "Sec-WebSocket-Protocol": `warren.v1, warren.bearer.${token}`,
        Origin: origin,
      },
    });
    request.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve(response.statusCode);
    });
    request.on("response", (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on("error", reject);
    request.end();
  });
}

// ---- the tests -------------------------------------------------------------------------------

test("sign up, verify by the emailed link, sign in, and a reload keeps the session", async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const user = newUser("signup");
  await page.goto(`${env.spaUrl}/signup`);
  await expectView(page, "Create an account");
  await page.fill("#signup-name", user.full_name);
  await page.fill("#signup-email", user.email);
  await page.fill("#signup-password", user.password);
  await shot(page, "signup");
  await page.click("#signup-form button[type=submit]");
  await expectText(page, "#status", "Account created");
  await expectView(page, "Sign in");

  const link = await env.mail.link(user.email, "verify-email");
  assert.ok(link.startsWith(`${env.spaUrl}/verify-email#token=`), link);
  await page.goto(link);
  await expectText(page, '[data-view="verify-email"] .result', "Your email address is verified.");
  await shot(page, "email-verified");

  await signInPage(page, user);
  await expectText(page, "#profile-name", user.full_name);
  await expectText(page, "#profile-verified", "Email verified");
  await shot(page, "signed-in");

  await page.reload();
  await expectView(page, "Your profile");
  await expectText(page, "#profile-name", user.full_name);
  const readable = await page.evaluate(() => document.cookie);
  assert.ok(!readable.includes("warren_refresh"), `document.cookie exposes ${readable}`);
  const cookies = await context.cookies(env.warrenUrl);
  const refresh = cookies.find((cookie) => cookie.name === "__Host-warren_refresh");
  assert.ok(refresh, "the browser holds the refresh cookie");
  assert.equal(refresh.httpOnly, true);
  assert.equal(refresh.secure, true);
  assert.equal(refresh.sameSite, "Strict");
  await shot(page, "reloaded");
  await context.close();
});

test("a name change and an avatar upload in one tab show in the other without a reload", async () => {
  const user = await signedUp("live");
  const context = await env.browser.newContext();
  const tabA = await context.newPage();
  await signInPage(tabA, user);
  const tabB = await restoredTab(context);
  assert.equal(await avatarSrc(tabB), null);

  await tabA.fill("#name-input", "Grace from tab A");
  await tabA.click("#name-form button[type=submit]");
  await expectText(tabB, "#profile-name", "Grace from tab A");

  await tabA.setInputFiles("#avatar-file", await pngFile(tabA, "#2458c6"));
  await tabA.click("#avatar-form button[type=submit]");
  await expectText(tabA, "#status", "Avatar updated.");
  await tabB.waitForFunction(() => {
    const img = document.querySelector("#avatar");
    return !img.hidden && img.src.includes("/api/v1/avatars/") && img.complete && img.naturalWidth > 0;
  });
  const first = await avatarSrc(tabB);
  assert.equal(first, await avatarSrc(tabA));
  await shot(tabB, "live-avatar-tab-b");

  await tabA.setInputFiles("#avatar-file", await pngFile(tabA, "#b3261e"));
  await tabA.click("#avatar-form button[type=submit]");
  await tabB.waitForFunction((first) => document.querySelector("#avatar").src !== first, first);
  await context.close();
});

test("tokens expire and are refreshed silently, two tabs refreshing at once stay signed in", async () => {
  const user = await signedUp("refresh");
  const context = await env.browser.newContext();
  await context.clock.install(); // the tabs' timers can be fast-forwarded together
  const tabA = await context.newPage();
  const [refreshesA, tokensA, issuedA] = [refreshes(tabA), bearerTokens(tabA), issuedTokens(tabA)];
  await signInPage(tabA, user);
  const signedInAt = Date.now();
  const tabB = await context.newPage();
  const [refreshesB, tokensB, issuedB] = [refreshes(tabB), bearerTokens(tabB), issuedTokens(tabB)];
  await tabB.goto(env.spaUrl);
  await expectView(tabB, "Your profile");
  await liveEvents(tabB);
  // (Tab A's page load before signing in found no cookie: that refresh was a 401.)
  const [beforeA, beforeB] = [refreshesA.length, refreshesB.length];

  // The clock belongs to the context: both tabs reach their refresh time at the same moment.
  await context.clock.runFor((ACCESS_TOKEN_TTL_SECS - 5) * 1000);
  for (const [name, statuses, before] of [["A", refreshesA, beforeA], ["B", refreshesB, beforeB]]) {
    const deadline = Date.now() + 10_000;
    while (statuses.length <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(statuses.length > before, `tab ${name} refreshed`);
    const since = statuses.slice(before);
    assert.ok(since.every((status) => status === 200), `tab ${name} refreshes: ${since}`);
  }

  // Past the first access token's real expiry, both tabs still act, with refreshed tokens, and
  // live events still flow (the sockets were handed the new tokens).
  const wait = signedInAt + ACCESS_TOKEN_TTL_SECS * 1000 + 2000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  for (const [tab, tokens, issued] of [[tabA, tokensA, issuedA], [tabB, tokensB, issuedB]]) {
    const used = tokens.length;
    await tab.click('a[href="/sessions"]');
    await expectView(tab, "Where you are signed in");
    await tab.locator("#sessions-list tr").first().waitFor();
    assert.ok(tokens.length > used, "the sessions list was fetched with a bearer token");
    assert.ok(issued.length >= 2, "the tab was issued a token and then refreshed ones");
    assert.notEqual(tokens.at(-1), issued[0], "a refreshed token, not the first one");
    assert.equal(tokens.at(-1), issued.at(-1), "the newest token");
    await tab.click('a[href="/profile"]');
  }
  await tabA.fill("#name-input", "Still live after expiry");
  await tabA.click("#name-form button[type=submit]");
  await expectText(tabB, "#profile-name", "Still live after expiry");
  const later = [...refreshesA.slice(beforeA), ...refreshesB.slice(beforeB)];
  assert.ok(later.every((status) => status === 200), `refreshes: ${later}`);
  await shot(tabB, "after-expiry");
  await context.close();
});

test("a password reset by mail signs the other device out, and the new password works", async () => {
  const user = await signedUp("reset");
  const other = await env.browser.newContext();
  const otherTab = await other.newPage();
  await signInPage(otherTab, user);

  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${env.spaUrl}/signin`);
  await page.click('a[href="/forgot-password"]');
  await expectView(page, "Forgot your password?");
  await page.fill("#forgot-email", user.email);
  await page.click("#forgot-form button[type=submit]");
  await expectText(page, "#status", "reset link is on its way");
  await shot(page, "forgot-password");

  const link = await env.mail.link(user.email, "reset-password");
  await page.goto(link);
  await expectView(page, "Choose a new password");
  const newPassword = `brand new ${randomUUID().slice(0, 8)} password`;
  await page.fill("#reset-password", newPassword);
  await shot(page, "reset-password");
  await page.click("#reset-form button[type=submit]");
  await expectView(page, "Sign in");

  await expectView(otherTab, "Sign in");
  await expectText(otherTab, "#status", "Your session ended");
  assert.equal(await otherTab.locator("#live").getAttribute("data-close-code"), "4401");
  await shot(otherTab, "other-device-signed-out");

  await signInPage(page, { ...user, password: newPassword });
  await expectText(page, "#profile-email", user.email);
  await context.close();
  await other.close();
});

test("the sessions page lists both sessions and signs the other one out", async () => {
  const user = await signedUp("sessions");
  const laptop = await env.browser.newContext();
  const phone = await env.browser.newContext();
  const laptopTab = await laptop.newPage();
  const phoneTab = await phone.newPage();
  await signInPage(laptopTab, user);
  await signInPage(phoneTab, user);

  await laptopTab.click('a[href="/sessions"]');
  await expectView(laptopTab, "Where you are signed in");
  await laptopTab.waitForFunction(() => document.querySelectorAll("#sessions-list tr").length === 2);
  await expectText(laptopTab, "#sessions-list tr.current", "(this browser)");
  await shot(laptopTab, "sessions");

  await laptopTab.click("#sign-out-others");
  await expectText(laptopTab, "#status", "Signed out 1 other session.");
  await laptopTab.waitForFunction(() => document.querySelectorAll("#sessions-list tr").length === 1);
  await expectView(phoneTab, "Sign in");
  await expectText(phoneTab, "#status", "Your session ended");
  await laptopTab.reload();
  await expectView(laptopTab, "Where you are signed in");
  await laptop.close();
  await phone.close();
});

test("a page on an origin that is not allowlisted can neither read Warren nor open the socket", async () => {
  const user = await signedUp("cors");
  const token = await apiToken(user);
  const probe = async (page) =>
    page.evaluate(async ({ warren, token }) => {
      const outcome = async (attempt) => {
        try {
          const response = await attempt();
          return `read ${response.status}`;
        } catch {
          return "blocked";
        }
      };
      const me = await outcome(() =>
        fetch(`${warren}/api/v1/users/me`, { headers: { Authorization: `Bearer ${token}` } }));
      const refresh = await outcome(() =>
        fetch(`${warren}/api/v1/auth/refresh`, {
          method: "POST",
          credentials: "include",
          headers: { "Content-Type": "application/json" },
          body: "{}",
        }));
      const socket = await new Promise((resolve) => {
        const ws = new WebSocket(`${warren.replace(/^http/, "ws")}/api/v1/events`, ["warren.v1", `warren.bearer.${token}`]);
        ws.onopen = () => {
          ws.close();
          resolve("open");
        };
        ws.onclose = (event) => resolve(`closed ${event.code}`);
      });
      return { me, refresh, socket };
    }, { warren: env.warrenUrl, token });

  const context = await env.browser.newContext();
  const foreign = await context.newPage();
  await foreign.goto(`${env.foreignUrl}/`);
  assert.deepEqual(await probe(foreign), { me: "blocked", refresh: "blocked", socket: "closed 1006" });
  assert.equal(await handshakeStatus(env.foreignUrl, token), 403);
  await shot(foreign, "foreign-origin");

  // The same probe from the allowlisted SPA reads and connects: the refusals above are CORS.
  const spa = await context.newPage();
  await spa.goto(`${env.spaUrl}/`);
  assert.deepEqual(await probe(spa), { me: "read 200", refresh: "read 401", socket: "open" });
  assert.equal(await handshakeStatus(env.spaUrl, token), 101);
  await context.close();
});

test("deleting the account returns every tab to sign-in and the avatar URL is gone", async () => {
  const user = await signedUp("delete");
  const context = await env.browser.newContext();
  const tabA = await context.newPage();
  await signInPage(tabA, user);
  await tabA.setInputFiles("#avatar-file", await pngFile(tabA, "#2f7d4f"));
  await tabA.click("#avatar-form button[type=submit]");
  await expectText(tabA, "#status", "Avatar updated.");
  const avatar = await avatarSrc(tabA);
  assert.ok(avatar.includes("/api/v1/avatars/"), avatar);
  assert.equal((await fetch(avatar.replace("localhost", "127.0.0.1"))).status, 200);
  const tabB = await restoredTab(context);

  await tabA.click('a[href="/delete-account"]');
  await expectView(tabA, "Delete your account");
  await tabA.fill("#delete-password", user.password);
  await shot(tabA, "delete-account");
  await tabA.click("#delete-form button[type=submit]");
  await expectView(tabA, "Sign in");
  await expectText(tabA, "#status", "Your account was deleted.");
  await expectView(tabB, "Sign in");
  await shot(tabB, "deleted-other-tab");

  assert.equal((await fetch(avatar.replace("localhost", "127.0.0.1"))).status, 404);
  const cookies = await context.cookies(env.warrenUrl);
  assert.ok(!cookies.some((cookie) => cookie.name === "__Host-warren_refresh"), "the cookie is deleted");
  await context.close();
});
