// What the interop tests run against: a build of Warren (release by default) on a fresh SQLite
// data directory and a free port, with `auth.issuer` and `server.public_url` both its own URL,
// exactly as a deployment publishes itself. Nothing leaves loopback.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LOGS = path.join(ROOT, "target", "interop");
// Not WARREN_…: Warren refuses unknown WARREN_* variables, and its child inherits ours.
const WARREN_BIN = process.env.INTEROP_WARREN_BIN ?? path.join(ROOT, "target", "release", "warren");

export async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

async function waitUntilReady(child, url, name) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Warren exited; see target/interop/${name}.log`);
    try {
      if ((await fetch(`${url}/api/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`Warren was not ready in 30 s; see target/interop/${name}.log`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts Warren signing with `algorithm` (`EdDSA` or `ES256`); `stop()` ends it again. */
export async function startWarren(algorithm) {
  await mkdir(LOGS, { recursive: true });
  const name = `warren-${algorithm}`;
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), "warren-interop-"));
  const log = createWriteStream(path.join(LOGS, `${name}.log`));
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("WARREN_") || key === "DATABASE_URL") delete env[key];
  const child = spawn(WARREN_BIN, ["serve"], {
    cwd: dataDir, // no warren.toml or .env of the repository applies
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...env,
      WARREN_ENV: "development",
      WARREN_SERVER__HOST: "127.0.0.1",
      WARREN_SERVER__PORT: String(port),
      WARREN_SERVER__PUBLIC_URL: issuer,
      WARREN_DATA_DIR: dataDir,
      WARREN_AUTH__ISSUER: issuer,
      WARREN_AUTH__SIGNING_ALGORITHM: algorithm,
      WARREN_LOG__FORMAT: "json",
    },
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  await waitUntilReady(child, issuer, name);
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  return { issuer, audience: "warren", stop };
}

/** Signs up a fresh user and signs in: their id and access token. */
export async function signedInUser(issuer) {
  const unique = `${Date.now()}${Math.random().toString(16).slice(2)}`;
  const account = { email: `interop.${unique}@example.com`, password: `interop ${unique} battery staple` };
  const post = (path, body) =>
    fetch(`${issuer}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const signup = await post("/api/v1/auth/signup", { ...account, full_name: "Interop Tester" });
  if (signup.status !== 201) throw new Error(`signup answered ${signup.status}: ${await signup.text()}`);
  const signin = await post("/api/v1/auth/signin", account);
  if (signin.status !== 200) throw new Error(`signin answered ${signin.status}: ${await signin.text()}`);
  const { access_token: token } = await signin.json();
  const me = await fetch(`${issuer}/api/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
  const { id } = await me.json();
  return { id, token };
}
