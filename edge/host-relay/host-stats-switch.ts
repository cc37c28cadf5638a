import { HOST_STATS_ON_DEMAND } from "../../shared/protocol";
import type { AgentAttachment } from "./attachment";
import { sendToAgent } from "./to-agent";

const EPOCH_KEY = "stats-epoch";

/**
 * Switches the connected agent's stats snapshots on and off for the owner's feed
 * (edge/user-feed/stats-demand.ts): on when the feed's first viewer walks its hosts, off when
 * the feed answers a snapshot "unwanted". Both may cross (a snapshot answered just before a
 * viewer came, its answer handled after that viewer's start), so the epoch of the last start
 * is kept and an older "unwanted" is ignored. Agents without HOST_STATS_ON_DEMAND are never
 * sent the frame: they keep sending, and the feed keeps dropping what they send.
 */
export class HostStatsSwitch {
  constructor(
    private readonly kv: SyncKvStorage,
    private readonly liveAgent: () => { socket: WebSocket; agent: AgentAttachment } | undefined,
  ) {}

  /** The feed has a viewer (as of `epoch`): a snapshot at once, then every interval. */
  start(epoch: number): void {
    if (epoch > (this.kv.get<number>(EPOCH_KEY) ?? 0)) this.kv.put(EPOCH_KEY, epoch);
    this.#tell(true);
  }

  /** The feed answered a snapshot "unwanted" as of `epoch`. */
  unwanted(epoch: number): void {
    if ((this.kv.get<number>(EPOCH_KEY) ?? 0) > epoch) return;
    this.#tell(false);
  }

  #tell(send: boolean): void {
    const live = this.liveAgent();
    if (live?.agent.hello?.capabilities.includes(HOST_STATS_ON_DEMAND)) {
      sendToAgent(live.socket, { type: "stats", send });
    }
  }
}
