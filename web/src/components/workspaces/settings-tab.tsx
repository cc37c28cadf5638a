import { ClaudeSettingsSection } from "./claude-settings-section";
import type { TabProps } from "./tab-props";

/** The workspace's Claude Code settings, one editable JSON document per section the API exposes. */
export function SettingsTab({ workspaceId }: TabProps) {
  return (
    <section class="ws-settings" aria-label="Claude Code settings">
      <ClaudeSettingsSection
        workspaceId={workspaceId}
        section="settings"
        title="Settings"
        file=".claude/settings.json"
      />
      <ClaudeSettingsSection
        workspaceId={workspaceId}
        section="hooks"
        title="Hooks"
        file="the hooks of .claude/settings.json"
      />
      <ClaudeSettingsSection workspaceId={workspaceId} section="mcp" title="MCP servers" file=".mcp.json" />
    </section>
  );
}
