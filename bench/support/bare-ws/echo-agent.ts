import WebSocket from "ws";

/**
 * The relay floor's agent (bench/support/bare-ws/worker.ts, `Echo`): a process of its own, as
 * kai-agent is, that answers every frame at once with a reply carrying its id, parsing and
 * encoding JSON as any agent must and doing nothing else. Prints "open" once connected.
 * Usage: node --import tsx echo-agent.ts WS_URL
 */
const url = process.argv[2];
if (!url) throw new Error("usage: echo-agent.ts WS_URL");
// As kai-agent dials a loopback edge (agent/connection/dial.ts): no compression, no mask.
const socket = new WebSocket(url, {
  perMessageDeflate: false,
  generateMask: (mask: Buffer) => {
    mask.fill(0);
  },
});
socket.on("open", () => process.stdout.write("open\n"));
socket.on("message", (data) => {
  const { id } = JSON.parse(data.toString()) as { id: string };
  socket.send(JSON.stringify({ type: "res", id, ok: true, result: {} }));
});
socket.on("close", () => process.exit(0));
socket.on("error", (error) => {
  process.stderr.write(`echo-agent: ${error.message}\n`);
  process.exit(1);
});
