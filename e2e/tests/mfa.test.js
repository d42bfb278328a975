// Two-factor sign-in in the example SPA: enrolment by scanning the QR code the page
// draws, the second signin step with an app code and with a recovery code, and switching it off.
// The test is the authenticator app: it reads the QR code's pixels and computes RFC 6238 codes.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import jsQR from "jsqr";
import { env, expectText, expectView, shot, signedUp, signInPage, submitPassword, useWarren } from "../pages.js";

useWarren("mfa");

// ---- the authenticator app -------------------------------------------------------------------

const STEP_SECONDS = 30;

function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of text.replace(/=+$/, "")) {
    const value = alphabet.indexOf(char.toUpperCase());
    assert.ok(value >= 0, `base32 secret has ${char}`);
    bits += value.toString(2).padStart(5, "0");
  }
  const bytes = bits.match(/.{8}/g).map((byte) => parseInt(byte, 2));
  return Buffer.from(bytes);
}

/** RFC 6238 with RFC 4226's truncation: SHA-1, 6 digits, 30-second steps. */
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(number % 1_000_000).padStart(6, "0");
}

const currentStep = () => Math.floor(Date.now() / 1000 / STEP_SECONDS);

/** An app that never offers a step twice (Warren refuses a used step) and waits when it
 *  has run ahead of the ±1-step window. */
class Authenticator {
  #lastStep = 0;

  constructor(secret) {
    this.secret = secret;
  }

  async code() {
    const step = Math.max(currentStep(), this.#lastStep + 1);
    while (step > currentStep() + 1) await new Promise((resolve) => setTimeout(resolve, 500));
    this.#lastStep = step;
    return totp(this.secret, step);
  }

  /** A code for the current step that is certainly not the right one. */
  wrongCode() {
    const right = new Set([-1, 0, 1].map((offset) => totp(this.secret, currentStep() + offset)));
    for (let n = 0; ; n++) {
      const candidate = String(n).padStart(6, "0");
      if (!right.has(candidate)) return candidate;
    }
  }
}

/** What a phone camera does: the QR code's pixels, as drawn, through a QR decoder. */
async function scanQrCode(page) {
  const { width, height, rgba } = await page.evaluate(async () => {
    const svg = document.querySelector("#mfa-qr svg");
    const image = new Image();
    image.src = `data:image/svg+xml;base64,${btoa(new XMLSerializer().serializeToString(svg))}`;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    return { width: pixels.width, height: pixels.height, rgba: Array.from(pixels.data) };
  });
  const result = jsQR(Uint8ClampedArray.from(rgba), width, height);
  assert.ok(result, "the QR code on the page decodes");
  return result.data;
}

function claims(accessToken) {
  return JSON.parse(Buffer.from(accessToken.split(".")[1], "base64url").toString("utf8"));
}

/** Signs in up to the second step: the page asks for a code. */
async function passwordStep(page, user) {
  await submitPassword(page, user);
  await expectView(page, "Enter your sign-in code");
}

/** Submits a code on the second step and returns Warren's answer to it. */
async function codeStep(page, code) {
  await page.fill("#signin-code", code);
  const [response] = await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/api/v1/auth/signin/mfa")),
    page.click("#signin-code-form button[type=submit]"),
  ]);
  return { status: response.status(), body: await response.json() };
}

// ---- the test --------------------------------------------------------------------------------

test("enrol by scanning the QR code, sign in with an app code and with a recovery code once, turn it off", async () => {
  const user = await signedUp("mfa");
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await signInPage(page, user);
  await page.click('a[href="/two-factor"]');
  await expectView(page, "Two-factor sign-in");
  await expectText(page, "#mfa-state", "Two-factor sign-in is off");

  // Enrol: the page draws the QR code itself; the test's "app" scans it.
  const [enrolment] = await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/api/v1/users/me/mfa/totp")),
    page.fill("#mfa-enrol-password", user.password).then(() => page.click("#mfa-enrol-form button[type=submit]")),
  ]);
  const { otpauth_uri: issuedUri, secret } = await enrolment.json();
  await page.locator("#mfa-qr svg").waitFor();
  await shot(page, "scan-qr-code");
  const scanned = await scanQrCode(page);
  assert.equal(scanned, issuedUri, "the QR code holds Warren's otpauth URI");
  assert.equal(new URL(scanned).searchParams.get("secret"), secret);
  assert.equal(await page.locator("#mfa-secret").textContent(), secret, "the key is shown for typing");
  const app = new Authenticator(secret);

  // A wrong code is refused where the user typed it, and enrolment stays pending.
  await page.fill("#mfa-confirm-code", app.wrongCode());
  await page.click("#mfa-confirm-form button[type=submit]");
  await expectText(page, "#mfa-confirm-form .form-error", "the code is wrong");
  await page.fill("#mfa-confirm-code", await app.code());
  await page.click("#mfa-confirm-form button[type=submit]");
  await expectText(page, "#mfa-state", "Two-factor sign-in is on");
  // The state can read "on" a moment before the codes are drawn: the refreshed profile (or the
  // `user_updated` event) renders it while the confirm handler is still finishing.
  await page.locator("#mfa-recovery-codes li").nth(9).waitFor();
  const recoveryCodes = await page.locator("#mfa-recovery-codes li").allTextContents();
  assert.equal(recoveryCodes.length, 10, "ten recovery codes are shown");
  assert.equal(new Set(recoveryCodes).size, 10);
  await shot(page, "recovery-codes");

  // Signing in now takes a second step; a code from the app finishes it.
  await page.click("#sign-out");
  await expectView(page, "Sign in");
  await passwordStep(page, user);
  await shot(page, "second-step");
  const wrong = await codeStep(page, app.wrongCode());
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.code, "invalid_mfa_code");
  await expectText(page, "#signin-code-form .form-error", "the code is wrong");
  const signedIn = await codeStep(page, await app.code());
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  assert.deepEqual(claims(signedIn.body.access_token).amr, ["pwd", "otp"]);
  await expectView(page, "Your profile");
  await page.reload(); // the refresh cookie of a two-factor signin keeps the session too
  await expectView(page, "Your profile");

  // Another device without the phone: a recovery code works, once.
  const laptop = await env.browser.newContext();
  const laptopTab = await laptop.newPage();
  await passwordStep(laptopTab, user);
  assert.equal((await codeStep(laptopTab, recoveryCodes[0])).status, 200);
  await expectView(laptopTab, "Your profile");
  const tablet = await env.browser.newContext();
  const tabletTab = await tablet.newPage();
  await passwordStep(tabletTab, user);
  const reused = await codeStep(tabletTab, recoveryCodes[0]);
  assert.equal(reused.body.code, "invalid_mfa_code", "a used recovery code is refused");
  await expectView(tabletTab, "Enter your sign-in code");

  // Turning it off needs the password and a code; then the password alone signs in again.
  await page.click('a[href="/two-factor"]');
  await expectView(page, "Two-factor sign-in");
  await page.fill("#mfa-disable-password", user.password);
  await page.fill("#mfa-disable-code", await app.code());
  await page.click("#mfa-disable-form button[type=submit]");
  await expectText(page, "#mfa-state", "Two-factor sign-in is off");
  await shot(page, "mfa-off");
  await signInPage(tabletTab, user);
  await Promise.all([context.close(), laptop.close(), tablet.close()]);
});
