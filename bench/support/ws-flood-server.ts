import { WebSocketServer } from "ws";

/**
 * The streams baseline, run as its own process like the agent is: a plain `ws` server on
 * loopback that sends each client `count` frames shaped like Kai's log chunks (the template
 * with `seq` and the message replaced), as fast as ws takes them, then waits.
 * Usage: node --import tsx ws-flood-server.ts COUNT TEMPLATE_JSON ; prints its port.
 */

const count = Number(process.argv[2]);
const template = JSON.parse(process.argv[3] ?? "{}") as { data?: Record<string, unknown> };
/** Frames handed to ws per event-loop turn: a burst, as Docker hands the agent a buffer of lines. */
const BURST = 500;

const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
server.on("listening", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : 0}\n`);
});
server.on("connection", (socket) => {
  let next = 1;
  const burst = () => {
    const end = Math.min(count, next + BURST - 1);
    for (; next <= end; next++)
      socket.send(JSON.stringify({ ...template, seq: next - 1, data: { ...template.data, message: String(next) } }));
    if (next <= count) setImmediate(burst);
  };
  burst();
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
