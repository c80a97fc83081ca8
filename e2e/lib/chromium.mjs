// Where the browser suite finds Chromium, and why it would skip.
//
// scripts/test.sh installs Debian's chromium (/usr/bin/chromium) when it is
// missing and it runs as root; when it cannot, it exports
// LECTERN_E2E_NO_CHROMIUM with the reason. Nothing downloads a browser.
//
// Use in a browser test file:
//   import { chromiumSkipReason } from "../lib/chromium.mjs";
//   const skip = chromiumSkipReason();           // false, or a string
//   test("…", { skip }, async () => { … });      // node:test prints the reason
import { existsSync } from "node:fs";

/** The Chromium binary: $CHROMIUM_PATH or Debian's /usr/bin/chromium. */
export const chromiumPath = () => process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/** false when Chromium is there, else why the browser tests skip. */
export function chromiumSkipReason() {
  const bin = chromiumPath();
  if (existsSync(bin)) return false;
  const why =
    process.env.LECTERN_E2E_NO_CHROMIUM ||
    `${bin} not found: install Debian's chromium (apt-get install -y chromium; scripts/test.sh does it as root) or set CHROMIUM_PATH`;
  return `Chromium is not available: ${why}`;
}
