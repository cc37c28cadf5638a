import { describe, expect, it } from "vitest";
import { launchdPlist } from "./launchd-plist";

type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

/**
 * Reads the XML property list back (plutil does not exist here): the elements launchd plists
 * use, nothing else, and any stray text fails. Enough to see the structure launchd will load.
 */
function parsePlist(text: string): PlistValue {
  const body = /<plist version="1\.0">([\s\S]*)<\/plist>\s*$/.exec(text)?.[1];
  if (body === undefined) throw new Error("no <plist> element");
  const tokens = body.match(/<[^>]+>|[^<]+/g)?.filter((token) => token.trim() !== "") ?? [];
  let at = 0;
  const decode = (value: string) =>
    value.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll("&amp;", "&");
  const textOf = (tag: string): string => {
    const value = tokens[at]?.startsWith("<") ? "" : decode(tokens[at++] ?? "");
    if (tokens[at++] !== `</${tag}>`) throw new Error(`unclosed <${tag}>`);
    return value;
  };
  const value = (): PlistValue => {
    const token = tokens[at++];
    if (token === "<true/>") return true;
    if (token === "<false/>") return false;
    if (token === "<string>") return textOf("string");
    if (token === "<integer>") return Number(textOf("integer"));
    if (token === "<array>") {
      const items: PlistValue[] = [];
      while (tokens[at] !== "</array>") items.push(value());
      at++;
      return items;
    }
    if (token === "<dict>") {
      const dict: Record<string, PlistValue> = {};
      while (tokens[at] !== "</dict>") {
        if (tokens[at++] !== "<key>") throw new Error(`expected <key>, got ${tokens[at - 1]}`);
        const key = textOf("key");
        dict[key] = value();
      }
      at++;
      return dict;
    }
    throw new Error(`unexpected ${token}`);
  };
  const root = value();
  if (at !== tokens.length) throw new Error(`stray ${tokens[at]}`);
  return root;
}

describe("launchdPlist", () => {
  it("is a property list launchd loads: the command, login start, restart after failure, the log file", () => {
    const text = launchdPlist(
      {
        node: "/opt/homebrew/bin/node",
        bundle: "/Users/a & b/.local/share/kai/kai-agent.mjs",
        config: "/Users/a & b/.config/kai/agent.json",
        environment: { DOCKER_HOST: "unix:///Users/a/<colima>/docker.sock" },
      },
      "/Users/a & b/Library/Logs/kai-agent.log",
    );
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist')).toBe(true);
    expect(parsePlist(text)).toEqual({
      Label: "dev.kai.agent",
      ProgramArguments: [
        "/opt/homebrew/bin/node",
        "/Users/a & b/.local/share/kai/kai-agent.mjs",
        "--config",
        "/Users/a & b/.config/kai/agent.json",
      ],
      EnvironmentVariables: { DOCKER_HOST: "unix:///Users/a/<colima>/docker.sock" },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 30,
      ProcessType: "Background",
      StandardOutPath: "/Users/a & b/Library/Logs/kai-agent.log",
      StandardErrorPath: "/Users/a & b/Library/Logs/kai-agent.log",
    });
  });

  it("leaves EnvironmentVariables out when there is nothing to pass", () => {
    const text = launchdPlist({ node: "/n", bundle: "/b", config: "/c", environment: {} }, "/l");
    expect(parsePlist(text)).not.toHaveProperty("EnvironmentVariables");
  });
});
