// What the browser tests run against: a release build of Warren on a fresh data directory,
// an SMTP sink, the example SPA on an allowlisted origin, a second copy on an origin that is
// not allowlisted, and Debian's Chromium. Every port is picked free; nothing leaves loopback.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { SMTPServer } from "smtp-server";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SHOTS = path.join(ROOT, "target", "e2e");
// Not WARREN_…: Warren refuses unknown WARREN_* variables, and its child inherits ours.
const WARREN_BIN = process.env.E2E_WARREN_BIN ?? path.join(ROOT, "target", "release", "warren");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Short, so a test can watch tokens expire and be refreshed (Warren's minimum is 60 s).
export const ACCESS_TOKEN_TTL_SECS = 60;

async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

async function waitUntil(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error.message.includes("exited")) throw error;
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Quoted-printable undone: soft line breaks joined, `=XX` decoded. */
function unquote(raw) {
  const joined = raw.replace(/=\r?\n/g, "");
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === "=" && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i]));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Keeps every message Warren delivers, and lets a test wait for the next one to an address. */
class MailSink {
  messages = [];
  #waiters = [];

  async start() {
    this.port = await freePort();
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["AUTH", "STARTTLS"],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks = [];
        stream.on("data", (chunk) => chunks.push(chunk));
        stream.on("end", () => {
          const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
          this.messages.push({ to, text: unquote(Buffer.concat(chunks).toString("utf8")) });
          for (const wake of this.#waiters.splice(0)) wake();
          callback();
        });
      },
    });
    this.server.listen(this.port, "127.0.0.1");
    await once(this.server.server, "listening");
  }

  /** The link of the first message to `address` whose link path is `linkPath`. */
  async link(address, linkPath, timeoutMs = 15_000) {
    const pattern = new RegExp(`https?://[^\\s"<>]*/${linkPath}#token=[A-Za-z0-9_-]+`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const message of this.messages) {
        const match = message.to.includes(address.toLowerCase()) && message.text.match(pattern);
        if (match) return match[0];
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${linkPath} mail to ${address} within ${timeoutMs} ms`);
      await new Promise((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, left);
      });
    }
  }

  stop() {
    return new Promise((resolve) => this.server.close(resolve));
  }
}

function startProcess(name, command, args, env) {
  const log = createWriteStream(path.join(SHOTS, `${name}.log`));
  // Only the settings given here: a developer's own WARREN_* variables must not leak in.
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith("WARREN_"));
  const childEnv = { ...Object.fromEntries(inherited), ...env };
  const child = spawn(command, args, { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.on("exit", (code, signal) => {
    if (!child.stopping) console.error(`# ${name} exited early (${code ?? signal}); see target/e2e/${name}.log`);
  });
  return child;
}

async function stopProcess(child) {
  if (!child || child.exitCode !== null) return;
  child.stopping = true;
  child.kill("SIGTERM");
  await once(child, "exit");
}

/** Starts everything (logs in target/e2e/`<name>`-*.log); `stop()` ends it all again. */
export async function start(name) {
  await mkdir(SHOTS, { recursive: true });
  const mail = new MailSink();
  await mail.start();
  const [warrenPort, spaPort, foreignPort] = [await freePort(), await freePort(), await freePort()];
  // `localhost` everywhere a browser looks: the refresh cookie is SameSite=Strict, and
  // localhost and 127.0.0.1 are different sites.
  const warrenUrl = `http://localhost:${warrenPort}`;
  const spaUrl = `http://localhost:${spaPort}`;
  const foreignUrl = `http://localhost:${foreignPort}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), "warren-e2e-"));
  const warren = startProcess(`${name}-warren`, WARREN_BIN, ["serve"], {
    WARREN_ENV: "development",
    WARREN_SERVER__HOST: "127.0.0.1",
    WARREN_SERVER__PORT: String(warrenPort),
    WARREN_DATA_DIR: dataDir,
    WARREN_AUTH__ISSUER: warrenUrl,
    WARREN_AUTH__ACCESS_TOKEN_TTL_SECS: String(ACCESS_TOKEN_TTL_SECS),
    WARREN_AUTH__REFRESH_COOKIE: "true",
    WARREN_CORS__ALLOWED_ORIGINS: `[${spaUrl}]`,
    WARREN_EMAIL__TRANSPORT: "smtp",
    WARREN_EMAIL__SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
    WARREN_EMAIL__LINKS__VERIFY_EMAIL: `${spaUrl}/verify-email#token={token}`,
    WARREN_EMAIL__LINKS__RESET_PASSWORD: `${spaUrl}/reset-password#token={token}`,
    WARREN_EMAIL__LINKS__CONFIRM_EMAIL_CHANGE: `${spaUrl}/confirm-email#token={token}`,
    WARREN_EMAIL__RESEND_INTERVAL_SECS: "1",
    // Every test signs in from 127.0.0.1: keep the per-IP limits on, but roomy.
    WARREN_RATE_LIMIT__AUTH_PER_MINUTE: "1000",
    WARREN_RATE_LIMIT__AUTH_BURST: "1000",
    WARREN_LOG__LEVEL: "info,sqlx=warn",
    WARREN_LOG__FORMAT: "json",
  });
  const serve = path.join(ROOT, "examples", "spa", "serve.py");
  const spaEnv = { SPA_QUIET: "1" };
  const spa = startProcess(`${name}-spa`, "python3", [serve, "--port", spaPort, "--warren", warrenUrl], spaEnv);
  const foreign = startProcess(`${name}-foreign`, "python3", [serve, "--port", foreignPort, "--warren", warrenUrl], spaEnv);
  const api = `http://127.0.0.1:${warrenPort}`;
  await waitUntil("Warren to be ready", async () => {
    if (warren.exitCode !== null) throw new Error(`Warren exited; see target/e2e/${name}-warren.log`);
    return (await fetch(`${api}/api/health/ready`)).ok;
  });
  for (const port of [spaPort, foreignPort]) {
    await waitUntil("the SPA server", async () => (await fetch(`http://127.0.0.1:${port}/config.js`)).ok);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const stop = async () => {
    await browser.close();
    await Promise.all([stopProcess(warren), stopProcess(spa), stopProcess(foreign)]);
    await mail.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  return { browser, mail, api, warrenUrl, warrenPort, spaUrl, foreignUrl, stop };
}
