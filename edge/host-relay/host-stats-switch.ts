import { HOST_STATS_ON_DEMAND } from "../../shared/protocol";
import type { AgentAttachment } from "./attachment";
import { sendToAgent } from "./to-agent";

const SWITCH_KEY = "stats-switch";

/** The last switch the feed asked for, and as of which of its epochs. */
interface Switched {
  epoch: number;
  on: boolean;
}

/**
 * Switches the connected agent's stats snapshots on and off for the owner's feed
 * (edge/user-feed/stats-demand.ts): on when the feed's first viewer walks its hosts, off when
 * the feed answers a snapshot "unwanted". Both may cross, so the last switch and its epoch are
 * kept: an "unwanted" older than the last start is ignored (answered just before a viewer
 * came, handled after that viewer's start), and so is a start older than the last switch or
 * as old as the last "unwanted" (a slow call of a walk the feed has since ended: it would
 * switch on an agent nobody watches for). Agents without HOST_STATS_ON_DEMAND are never sent
 * the frame: they keep sending, and the feed keeps dropping what they send.
 */
export class HostStatsSwitch {
  constructor(
    private readonly kv: SyncKvStorage,
    private readonly liveAgent: () => { socket: WebSocket; agent: AgentAttachment } | undefined,
  ) {}

  /** The feed has a viewer (as of `epoch`): a snapshot at once, then every interval. */
  start(epoch: number): void {
    const last = this.#last();
    if (epoch < last.epoch || (epoch === last.epoch && !last.on)) return;
    this.#switch({ epoch, on: true });
  }

  /** The feed answered a snapshot "unwanted" as of `epoch`. */
  unwanted(epoch: number): void {
    if (epoch < this.#last().epoch) return;
    this.#switch({ epoch, on: false });
  }

  #last(): Switched {
    return this.kv.get<Switched>(SWITCH_KEY) ?? { epoch: 0, on: true };
  }

  /**
   * Keeps the switch and tells a capable agent. An unchanged switch is not written again: an
   * agent without HOST_STATS_ON_DEMAND keeps sending, and each of its snapshots is answered
   * "unwanted" while nobody watches. A capable one is told again, since it may be a new
   * connection that started sending on connect.
   */
  #switch(switched: Switched): void {
    const last = this.#last();
    if (last.epoch !== switched.epoch || last.on !== switched.on) this.kv.put(SWITCH_KEY, switched);
    const live = this.liveAgent();
    if (live?.agent.hello?.capabilities.includes(HOST_STATS_ON_DEMAND)) {
      sendToAgent(live.socket, { type: "stats", send: switched.on });
    }
  }
}
