import type { TranscriptItem } from "../../state/sessions/transcript";
import { ToolCard } from "./tool-card";

/** What `done` says about how a turn ended, by ACP stop reason. */
const STOP_TEXT: Record<string, string> = {
  end_turn: "Turn finished.",
  cancelled: "Turn cancelled.",
  refusal: "The agent refused to go on.",
  max_tokens: "Stopped: the agent reached its token limit.",
  max_turn_requests: "Stopped: the agent reached its request limit.",
  error: "The turn failed.",
};

interface Props {
  items: TranscriptItem[];
  sessionId: string;
  blocked?: string;
  /** What this page sent, by run id. */
  prompts: Record<string, string>;
}

/**
 * The session's messages as a person reads them. Every text is rendered as text (Preact escapes
 * it): an agent's output can never become markup here.
 */
export function TranscriptView(props: Props) {
  const shown = new Set<string>();
  /** The prompt this page sent, before its turn's first item (the stream carries only the agent's side). */
  const promptOf = (runId: string | undefined) => {
    if (!runId || shown.has(runId) || !props.prompts[runId]) return null;
    shown.add(runId);
    return (
      <li key={`prompt-${runId}`} data-kind="prompt" class="prose prompt">
        {props.prompts[runId]}
      </li>
    );
  };
  const rendered = props.items.flatMap((item) => [promptOf(item.runId), render(item)]);
  const waiting = Object.keys(props.prompts).map(promptOf);
  return (
    <ol class="transcript" aria-label="Session messages">
      {rendered}
      {waiting}
    </ol>
  );

  function render(item: TranscriptItem) {
    switch (item.kind) {
      case "thinking":
        return (
          <li key={item.key} data-kind="thinking">
            <details class="thinking">
              <summary>Thinking</summary>
              <p class="prose">{item.content}</p>
            </details>
          </li>
        );
      case "text":
        return (
          <li key={item.key} data-kind="text" class="prose agent-text">
            {item.content}
          </li>
        );
      case "tool":
        return <ToolCard key={item.key} item={item} sessionId={props.sessionId} blocked={props.blocked} />;
      case "done":
        return (
          <li key={item.key} data-kind="done" class="turn-end">
            {STOP_TEXT[item.content ?? ""] ?? `Turn ended (${item.content ?? "no reason given"}).`}
          </li>
        );
      default:
        return (
          <li key={item.key} data-kind="error" class="turn-end turn-error" role="alert">
            {item.content ?? "The agent reported an error."}
          </li>
        );
    }
  }
}
