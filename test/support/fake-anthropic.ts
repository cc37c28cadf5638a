import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** The parts of a Messages API request body the script and the assertions read. */
export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  system?: unknown;
  tools?: { name?: string }[];
  messages?: { role: string; content: unknown }[];
}

/** One scripted answer: optional thinking, optional text, optional tool call, in that order. */
export interface ScriptedReply {
  thinking?: string;
  text?: string;
  toolUse?: { name: string; input: Record<string, unknown> };
}

export interface LoggedRequest {
  method: string;
  /** Path without the query (the SDK adds `?beta=true`). */
  path: string;
  body: MessagesRequest | undefined;
}

export interface FakeAnthropic {
  /** `http://127.0.0.1:<port>`, for ANTHROPIC_BASE_URL. */
  url: string;
  /** Every request, in arrival order, unknown paths included (they show what a client tried). */
  requests: LoggedRequest[];
  close(): Promise<void>;
}

const MODEL_FALLBACK = "claude-sonnet-4-5";

/**
 * A fake Anthropic Messages API on loopback: a real HTTP server on port 0, so a real client
 * (Claude Code behind its ACP adapter) streams from it exactly as from the real API, with no
 * model and no network. `reply` scripts each `POST /v1/messages` from its body; the answer is
 * server-sent events when the request streams (thinking_delta, text_delta, input_json_delta),
 * plain JSON otherwise. `count_tokens` answers a rough count; anything else is a 404.
 */
export async function fakeAnthropic(reply: (request: MessagesRequest) => ScriptedReply): Promise<FakeAnthropic> {
  const requests: LoggedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      let body: MessagesRequest | undefined;
      try {
        body = raw ? (JSON.parse(raw) as MessagesRequest) : undefined;
      } catch {
        body = undefined;
      }
      requests.push({ method: req.method ?? "GET", path, body });
      if (req.method === "POST" && path === "/v1/messages/count_tokens") {
        return json(res, 200, { input_tokens: Math.ceil(raw.length / 4) });
      }
      if (req.method === "POST" && path === "/v1/messages" && body) {
        const blocks = contentBlocks(reply(body));
        const stopReason = blocks.some((block) => block.type === "tool_use") ? "tool_use" : "end_turn";
        const message = {
          id: `msg_${randomUUID().replaceAll("-", "")}`,
          type: "message",
          role: "assistant",
          model: body.model ?? MODEL_FALLBACK,
          stop_sequence: null,
          usage: { input_tokens: Math.ceil(raw.length / 4), output_tokens: 1 },
        };
        if (body.stream) return stream(res, message, blocks, stopReason);
        return json(res, 200, { ...message, content: blocks, stop_reason: stopReason });
      }
      json(res, 404, { type: "error", error: { type: "not_found_error", message: `fake: no ${req.method} ${path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Block =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

function contentBlocks(scripted: ScriptedReply): Block[] {
  const blocks: Block[] = [];
  // The client sends thinking back with its signature; any opaque string passes here.
  if (scripted.thinking) blocks.push({ type: "thinking", thinking: scripted.thinking, signature: "fake-signature" });
  if (scripted.text) blocks.push({ type: "text", text: scripted.text });
  if (scripted.toolUse) {
    const id = `toolu_${randomUUID().replaceAll("-", "").slice(0, 24)}`;
    blocks.push({ type: "tool_use", id, ...scripted.toolUse });
  }
  return blocks;
}

/** The streaming answer, event by event, each block's content split over two deltas as the API does. */
function stream(res: http.ServerResponse, message: object, blocks: Block[], stopReason: string): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const send = (event: string, data: object) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send("message_start", { type: "message_start", message: { ...message, content: [], stop_reason: null } });
  blocks.forEach((block, index) => {
    if (block.type === "thinking") {
      send("content_block_start", { type: "content_block_start", index, content_block: { ...block, thinking: "" } });
      for (const part of halves(block.thinking)) {
        send("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "thinking_delta", thinking: part },
        });
      }
      send("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "signature_delta", signature: block.signature },
      });
    } else if (block.type === "text") {
      send("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } });
      for (const part of halves(block.text)) {
        send("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: part } });
      }
    } else {
      send("content_block_start", { type: "content_block_start", index, content_block: { ...block, input: {} } });
      for (const part of halves(JSON.stringify(block.input))) {
        send("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: part },
        });
      }
    }
    send("content_block_stop", { type: "content_block_stop", index });
  });
  send("message_delta", {
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: 20 },
  });
  send("message_stop", { type: "message_stop" });
  res.end();
}

function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)].filter(Boolean);
}

function json(res: http.ServerResponse, status: number, body: object): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
