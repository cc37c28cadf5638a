import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the independent Standard Webhooks implementation made of the signature. */
  verified: boolean;
  payload: { type: string; timestamp: string; data: Record<string, unknown> } | undefined;
  at: number;
}

/**
 * A real HTTP receiver on loopback that checks every request's signature with the
 * `standardwebhooks` package (an implementation independent of Kai's) and answers with
 * the statuses it is told to, in order (then 200).
 */
export async function startReceiver(secret: string) {
  const verifier = new Webhook(secret);
  const received: Received[] = [];
  const answers: number[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      let verified = false;
      let payload: Received["payload"];
      try {
        payload = verifier.verify(body, {
          "webhook-id": String(req.headers["webhook-id"]),
          "webhook-timestamp": String(req.headers["webhook-timestamp"]),
          "webhook-signature": String(req.headers["webhook-signature"]),
        }) as Received["payload"];
        verified = true;
      } catch {
        verified = false;
      }
      received.push({ path: req.url ?? "", headers: req.headers, body, verified, payload, at: Date.now() });
      const status = answers.shift() ?? 200;
      if (status >= 300 && status < 400) res.writeHead(status, { location: `${url}/redirected` }).end();
      else res.writeHead(status, { "content-type": "text/plain" }).end(`answered ${status}`);
      for (const waiter of waiters.filter((item) => received.length >= item.count)) waiter.resolve();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    /** Statuses to answer next, in order. */
    answerNext: (...statuses: number[]) => answers.push(...statuses),
    /** Resolves once `count` requests have arrived in total. */
    waitFor(count: number, timeoutMs = 20_000): Promise<void> {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${received.length} of ${count} webhook requests arrived`)),
          timeoutMs,
        );
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    ofType: (type: string) => received.filter((item) => item.payload?.type === type),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
