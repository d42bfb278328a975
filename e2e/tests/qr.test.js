// The example SPA's QR encoder (examples/spa/qr.js), checked by an independent decoder (jsQR):
// every version an enrolment URI can need, each mask, and non-ASCII bytes.
import assert from "node:assert/strict";
import { test } from "node:test";
import jsQR from "jsqr";
import { qrMatrix } from "../../examples/spa/qr.js";

const SCALE = 4;
const QUIET = 4;

/** Renders the modules as RGBA pixels, black on white, with the quiet zone. */
function pixels(modules) {
  const side = (modules.length + 2 * QUIET) * SCALE;
  const data = new Uint8ClampedArray(side * side * 4).fill(255);
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < SCALE; dy++) {
        for (let dx = 0; dx < SCALE; dx++) {
          const offset = (((y + QUIET) * SCALE + dy) * side + (x + QUIET) * SCALE + dx) * 4;
          data.fill(0, offset, offset + 3);
        }
      }
    }),
  );
  return { data, side };
}

function decode(text) {
  const modules = qrMatrix(text);
  const { data, side } = pixels(modules);
  const result = jsQR(data, side, side, { inversionAttempts: "dontInvert" });
  return { version: (modules.length - 17) / 4, decoded: result?.data };
}

test("an otpauth URI round-trips through a QR decoder", () => {
  const uri = "otpauth://totp/Warren:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Warren";
  assert.equal(decode(uri).decoded, uri);
});

test("versions 1 to 20 decode at their smallest and at their full capacity", () => {
  // Level M byte capacities of ISO/IEC 18004 table 7: the encoder must pick the same versions.
  const capacities = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666];
  capacities.forEach((capacity, index) => {
    const smallest = index === 0 ? 1 : capacities[index - 1] + 1;
    for (const length of [smallest, capacity]) {
      const text = "w".repeat(length - 1) + String(length % 10);
      const { version, decoded } = decode(text);
      assert.equal(version, index + 1, `${length} bytes`);
      assert.equal(decoded, text, `${length} bytes (version ${version})`);
    }
  });
});

test("non-ASCII text is encoded as UTF-8 bytes", () => {
  const text = "otpauth://totp/Warren:Zoë%20Ångström?secret=ABC&issuer=Wärren";
  assert.equal(decode(text).decoded, text);
});
