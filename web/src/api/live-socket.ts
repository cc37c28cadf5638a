import { type Signal, signal } from "@preact/signals";

/**
 * How a live socket stands, for the page's indicator: `live` (open), `reconnecting` (lost, a
 * new attempt is scheduled), `offline` (the browser says there is no network; retried when it
 * comes back) and `closed` (ended by the page, or refused for good: see `refusal`).
 */
export type LiveStatus = "connecting" | "live" | "reconnecting" | "offline" | "closed";

export interface LiveSocketOptions {
  /** The socket's path and query for the next attempt, e.g. with `?since=<last seq seen>`. */
  url: () => string;
  /** Each text frame as it arrives. */
  onFrame: (text: string) => void;
  /** Called on every successful open (the first and each reconnect). */
  onOpen?: () => void;
  /** Longest wait between attempts. */
  capMs?: number;
  /**
   * False for a socket whose opening starts work (running a script): reopening it would do
   * that work again, so a lost socket ends (`refusal` says so) instead of being retried.
   */
  reconnect?: boolean;
}

/**
 * Close codes after which trying again cannot help: the server refused this socket (policy,
 * unknown or foreign resource, too many viewers). Anything else (1006 network loss, 1001 the
 * edge restarting, 1011) is retried.
 */
const FINAL_CLOSE_CODES = new Set([1008, 4400, 4401, 4403, 4404, 4409, 4429]);

/**
 * One WebSocket to a Kai stream that keeps itself connected: reconnects with jittered
 * exponential backoff (so tabs that lost the edge together do not return in one wave), at once
 * when the tab becomes visible again or the network returns (a phone waking up), and asks for
 * `url()` each time so the caller can resume from its cursor. Same origin: the session cookie
 * authenticates it.
 */
export class LiveSocket {
  readonly status: Signal<LiveStatus> = signal("connecting");
  /** Why the server refused the socket for good (its close reason), when it did. */
  readonly refusal: Signal<string | undefined> = signal(undefined);
  readonly #options: LiveSocketOptions;
  #socket: WebSocket | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #stopped = false;

  constructor(options: LiveSocketOptions) {
    this.#options = options;
    addEventListener("online", this.#wake);
    document.addEventListener("visibilitychange", this.#wake);
    this.#connect();
  }

  /** Sends a frame when open; false when it could not be sent (the caller says so to the user). */
  send(text: string): boolean {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(text);
    return true;
  }

  /** Closes for good: no more reconnects. */
  close(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    removeEventListener("online", this.#wake);
    document.removeEventListener("visibilitychange", this.#wake);
    this.#socket?.close(1000);
    this.status.value = "closed";
  }

  #connect(): void {
    if (this.#stopped) return;
    if (!navigator.onLine) {
      this.status.value = "offline";
      return;
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}${this.#options.url()}`);
    this.#socket = socket;
    socket.onopen = () => {
      this.#attempt = 0;
      this.status.value = "live";
      this.#options.onOpen?.();
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") this.#options.onFrame(event.data);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket || this.#stopped) return;
      this.#socket = undefined;
      if (FINAL_CLOSE_CODES.has(event.code) || this.#options.reconnect === false) {
        this.refusal.value = event.reason || `the server closed the stream (${event.code})`;
        this.close();
        return;
      }
      this.#retry();
    };
  }

  #retry(): void {
    this.status.value = navigator.onLine ? "reconnecting" : "offline";
    const step = Math.min(this.#options.capMs ?? 15_000, 500 * 2 ** this.#attempt);
    this.#attempt += 1;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#connect(), step / 2 + Math.random() * (step / 2));
  }

  /** The tab is visible again or the network is back: try now rather than at the next backoff step. */
  readonly #wake = (): void => {
    if (this.#stopped || document.visibilityState === "hidden" || this.#socket) return;
    clearTimeout(this.#timer);
    this.#connect();
  };
}
