// The fake Stripe of the payment tests: stripe-mock (Stripe's own, stateless
// fake of its API, installed by scripts/stripe-mock.sh) on free loopback
// ports, and events signed as Stripe signs them (the official stripe
// package's webhooks.generateTestHeaderString).
import { spawn, execFileSync } from "node:child_process";
import Stripe from "stripe";
import { repoRoot, freePort } from "./server.mjs";
import { join } from "node:path";

export const WEBHOOK_SECRET = "whsec_e2e_lectern";
export const SECRET_KEY = "sk_test_e2eLecternKey";

const stripe = new Stripe(SECRET_KEY);

/** stripeMockPath: $STRIPE_MOCK_BIN, or the one scripts/stripe-mock.sh installs. */
function stripeMockPath() {
  if (process.env.STRIPE_MOCK_BIN) return process.env.STRIPE_MOCK_BIN;
  return execFileSync("bash", [join(repoRoot, "scripts", "stripe-mock.sh")], { cwd: repoRoot, timeout: 600_000 })
    .toString().trim();
}

/**
 * startStripeMock runs stripe-mock and returns {url, env, stop()}: env is the
 * LECTERN_STRIPE_* environment pointing a lectern server at it.
 */
export async function startStripeMock() {
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const child = spawn(stripeMockPath(), ["-http-addr", `127.0.0.1:${httpPort}`, "-https-addr", `127.0.0.1:${httpsPort}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`stripe-mock exited:\n${output}`);
    try {
      const res = await fetch(`${url}/v1/balance`, { headers: { Authorization: `Bearer ${SECRET_KEY}` } });
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      kill();
      throw new Error(`stripe-mock did not answer in 30s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    env: { LECTERN_STRIPE_SECRET_KEY: SECRET_KEY, LECTERN_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, LECTERN_STRIPE_API_URL: url },
    stop() {
      process.removeListener("exit", kill);
      kill();
    },
  };
}

let evtSeq = 0;

/** event builds a Stripe event (in an older API version than stripe-go's, as a real endpoint may be pinned to). */
export function event(type, object, id = `evt_e2e_${process.pid}_${++evtSeq}`) {
  return JSON.stringify({
    id, object: "event", api_version: "2024-06-20", created: Math.floor(Date.now() / 1000), type,
    livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, data: { object },
  });
}

/** paidSession is the Checkout Session of a completed, paid checkout. */
export function paidSession(sessionId, { amount = 59900, currency = "usd", paymentIntent = `pi_${sessionId}` } = {}) {
  return { id: sessionId, object: "checkout.session", mode: "payment", status: "complete", payment_status: "paid",
    amount_total: amount, currency, payment_intent: paymentIntent, metadata: {} };
}

/** fullRefund is the Charge of a fully refunded payment. */
export function fullRefund(paymentIntent, amount = 59900) {
  return { id: `ch_${paymentIntent}`, object: "charge", payment_intent: paymentIntent, amount, amount_refunded: amount, refunded: true, metadata: {} };
}

/**
 * deliver posts a signed event to the server's webhook as Stripe does (a plain
 * HTTP POST, not an SDK call) and returns {status, body}. secret and timestamp
 * can be overridden to forge a bad delivery.
 */
export async function deliver(serverURL, payload, { secret = WEBHOOK_SECRET, timestamp } = {}) {
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
  const res = await fetch(`${serverURL}/api/stripe/webhook`, {
    method: "POST", headers: { "Content-Type": "application/json", "Stripe-Signature": header }, body: payload,
  });
  return { status: res.status, body: await res.json() };
}
