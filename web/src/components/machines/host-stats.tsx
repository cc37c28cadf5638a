import type { HostLive } from "../../state/live-feed";
import { when } from "../when";

const MB = 1024 * 1024;

/** A host's latest stats snapshot from the feed: container counts, CPU and memory of what runs. */
export function HostStats({ live, online }: { live: HostLive | undefined; online: boolean }) {
  const stats = live?.stats;
  if (!stats) return online ? <span class="muted">Waiting for the first stats…</span> : null;
  const { services, resources, health } = stats;
  const trouble = health.errors + health.warnings;
  return (
    <dl class="host-stats" data-stats data-stale={online ? undefined : ""}>
      <div>
        <dt>Running</dt>
        <dd data-running>{services.running}</dd>
      </div>
      <div>
        <dt>Stopped</dt>
        <dd>{services.stopped}</dd>
      </div>
      <div>
        <dt>Unhealthy</dt>
        <dd class={trouble > 0 ? "bad" : undefined}>{trouble}</dd>
      </div>
      <div>
        <dt>CPU</dt>
        <dd>{resources.avgCpu.toFixed(1)} %</dd>
      </div>
      <div>
        <dt>Memory</dt>
        <dd>{Math.round(resources.totalMemoryUsage / MB)} MB</dd>
      </div>
      {!online && <span class="muted">as of {when(live?.statsAt)}</span>}
    </dl>
  );
}
