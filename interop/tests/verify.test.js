// Stock libraries, told only Warren's issuer URL (and the audience), verify its tokens with
// either signing algorithm and refuse forgeries.
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";

import express from "express";
import { auth } from "express-oauth2-jwt-bearer";
import { SignJWT, createRemoteJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify } from "jose";
import * as client from "openid-client";

import { freePort, signedInUser, startWarren } from "../harness.js";

/** An Express API guarded by express-oauth2-jwt-bearer configured with the issuer alone. */
async function protectedApi(issuerBaseURL, audience) {
  const app = express();
  app.use(auth({ issuerBaseURL, audience }));
  app.get("/whoami", (req, res) => res.json({ sub: req.auth.payload.sub }));
  // The library's refusals as plain responses, without Express logging each stack trace.
  app.use((error, req, res, next) => res.status(error.status ?? 500).set(error.headers ?? {}).json({ error: error.code }));
  const port = await freePort();
  const server = app.listen(port, "127.0.0.1");
  await once(server, "listening");
  const call = (token) => fetch(`http://127.0.0.1:${port}/whoami`, { headers: { authorization: `Bearer ${token}` } });
  return { call, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** The claims of `token` signed again, by a key Warren never published, under its header. */
async function forged(token, alg) {
  const header = decodeProtectedHeader(token);
  const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
  const { privateKey } = await generateKeyPair(alg, { crv: alg === "EdDSA" ? "Ed25519" : undefined });
  return new SignJWT(claims).setProtectedHeader({ alg, typ: header.typ, kid: header.kid }).sign(privateKey);
}

/** `token`'s claims with `alg: none` and no signature. */
function unsigned(token) {
  const header = { ...decodeProtectedHeader(token), alg: "none" };
  return `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${token.split(".")[1]}.`;
}

for (const algorithm of ["EdDSA", "ES256"]) {
  describe(`Warren signing ${algorithm}`, () => {
    let warren;
    let api;
    before(async () => {
      warren = await startWarren(algorithm);
      api = await protectedApi(warren.issuer, warren.audience);
    });
    after(async () => {
      await api?.close();
      await warren?.stop();
    });

    test("discovery names the issuer, the keys and the algorithm", async () => {
      const response = await fetch(`${warren.issuer}/.well-known/openid-configuration`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("cache-control"), "public, max-age=300");
      assert.equal(response.headers.get("access-control-allow-origin"), "*");
      const metadata = await response.json();
      assert.equal(metadata.issuer, warren.issuer);
      assert.equal(metadata.jwks_uri, `${warren.issuer}/.well-known/jwks.json`);
      assert.deepEqual(metadata.id_token_signing_alg_values_supported, [algorithm]);
      const other = await (await fetch(`${warren.issuer}/.well-known/oauth-authorization-server`)).json();
      assert.deepEqual(other, metadata);
    });

    test("openid-client discovers the same metadata from the issuer URL", async () => {
      const config = await client.discovery(new URL(warren.issuer), "interop-probe", undefined, undefined, {
        execute: [client.allowInsecureRequests], // the test Warren is plain http on loopback
      });
      const metadata = config.serverMetadata();
      assert.equal(metadata.issuer, warren.issuer);
      assert.equal(metadata.jwks_uri, `${warren.issuer}/.well-known/jwks.json`);
    });

    test("jose verifies a signed-in user's token with keys from the discovered jwks_uri", async () => {
      const { id, token } = await signedInUser(warren.issuer);
      const metadata = await (await fetch(`${warren.issuer}/.well-known/openid-configuration`)).json();
      const keys = createRemoteJWKSet(new URL(metadata.jwks_uri));
      const { payload, protectedHeader } = await jwtVerify(token, keys, {
        issuer: metadata.issuer,
        audience: warren.audience,
        typ: "at+jwt",
        algorithms: metadata.id_token_signing_alg_values_supported,
      });
      assert.equal(protectedHeader.alg, algorithm);
      assert.equal(payload.sub, id);
      await assert.rejects(jwtVerify(await forged(token, algorithm), keys, { issuer: metadata.issuer }));
    });

    test("express-oauth2-jwt-bearer accepts a Warren token and refuses forged ones", async () => {
      const { id, token } = await signedInUser(warren.issuer);
      const accepted = await api.call(token);
      assert.equal(accepted.status, 200);
      assert.deepEqual(await accepted.json(), { sub: id });
      for (const [what, forgery] of [
        ["another key", await forged(token, algorithm)],
        ["alg none", unsigned(token)],
      ]) {
        assert.equal((await api.call(forgery)).status, 401, what);
      }
    });
  });
}

test("a key of the other algorithm under a published kid is refused", async () => {
  const warren = await startWarren("ES256");
  try {
    const { token } = await signedInUser(warren.issuer);
    const keys = createRemoteJWKSet(new URL(`${warren.issuer}/.well-known/jwks.json`));
    const crossed = await forged(token, "EdDSA");
    await assert.rejects(jwtVerify(crossed, keys, { issuer: warren.issuer }));
    const jwks = await (await fetch(`${warren.issuer}/.well-known/jwks.json`)).json();
    assert.deepEqual(jwks.keys.map((key) => [key.alg, key.use]), [["ES256", "sig"]]);
  } finally {
    await warren.stop();
  }
});
