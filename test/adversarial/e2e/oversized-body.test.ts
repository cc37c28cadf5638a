import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Edge, startEdge } from "../../support/edge-server";
import { type Session, signUp } from "../../support/kai-client";

/**
 * An oversized chunked body on the real local server (wrangler's dev server in front of
 * workerd, which is what `npm start` and these tests run): before the fix the 413 left the
 * rest of the upload unread, and the next request of any other client hung for as long as
 * that upload stayed open.
 */

let edge: Edge;
let session: Session;

beforeAll(async () => {
  edge = await startEdge();
  session = await signUp(edge.url);
});
afterAll(async () => {
  await edge?.stop();
});

/** `total` bytes, produced as they are pulled: fetch sends it chunked, with no length. */
function streamOf(total: number): ReadableStream<Uint8Array> {
  const piece = new Uint8Array(64 * 1024).fill(0x20);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += piece.length;
      controller.enqueue(piece);
    },
  });
}

/** A GET on a connection of its own (no shared pool), as another user's client would make it. */
function otherClientGet(path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${edge.url}${path}`,
      { agent: false, headers: { authorization: `Bearer ${token}`, connection: "close" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (data: string) => (body += data));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
  });
}

describe("an oversized chunked body", () => {
  it.each([
    ["a JSON route (1 MiB limit)", "/api/tokens", "POST", 3 * 1024 * 1024],
    ["a file route (file limit)", "/api/v1/files/big.bin", "PUT", 40 * 1024 * 1024],
  ])(
    "on %s is answered 413 in the surface's format, and the next client is answered normally",
    async (_label, path, method, total) => {
      const first = await fetch(`${edge.url}${path}`, {
        method,
        body: streamOf(total),
        duplex: "half",
        headers: {
          authorization: `Bearer ${session.token}`,
          "content-type": path.includes("/files/") ? "application/octet-stream" : "application/json",
        },
      } as RequestInit);
      expect(first.status).toBe(413);
      const body = (await first.json()) as { code?: string; error?: { code: string } };
      expect(body.code ?? body.error?.code).toBe("PAYLOAD_TOO_LARGE");

      const other = await signUp(edge.url);
      for (let attempt = 0; attempt < 3; attempt++) {
        const next = await otherClientGet("/api/tokens", other.token);
        expect(next.status).toBe(200);
        expect(JSON.parse(next.body)).toMatchObject({ success: true });
      }
    },
  );
});
