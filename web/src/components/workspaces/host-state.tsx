import type { Host } from "./workspace-data";

/** Which machine a workspace lives on and whether it is reachable now. */
export function HostState({ host }: { host: Host | undefined }) {
  if (!host) return <span class="offline">machine removed</span>;
  return (
    <span class="row">
      <span>{host.name}</span>
      <span class={host.online ? "online" : "offline"} data-state>
        {host.online ? "online" : "offline"}
      </span>
    </span>
  );
}
