import { useState } from "preact/hooks";

/** Copies `text` to the clipboard and says so; without clipboard access it asks to select the text. */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
    setTimeout(() => setState("idle"), 2000);
  };
  return (
    <button type="button" onClick={copy} aria-live="polite">
      {state === "copied" ? "Copied" : state === "failed" ? "Select the text to copy it" : label}
    </button>
  );
}
