import { installLine } from "../../shared/install-line";

/**
 * `/install.sh`: the one line a machine runs to join Kai (`curl -fsSL ORIGIN/install.sh | sh`).
 *
 * A POSIX sh script (dash, bash, macOS sh) that, without root:
 * 1. needs curl or wget, and Node at least the manifest's `node` range (a clear message naming
 *    the version found, the one needed and how to get it, before anything is installed);
 * 2. downloads ORIGIN/agent/kai-agent.json and kai-agent.mjs into a temporary directory and
 *    checks the bundle's size and sha256 against the manifest with Node's crypto (no
 *    sha256sum/shasum needed); a mismatch installs nothing;
 * 3. installs the layout every kai-agent command shares: the bundle at
 *    `${XDG_DATA_HOME:-~/.local/share}/kai/kai-agent.mjs` and the launcher `~/.local/bin/kai-agent`
 *    (which pins the absolute Node that passed the check), each written beside its place and
 *    renamed over it, so a running agent keeps its file and a crash leaves no half file;
 * 4. logs in unless the config (KAI_CONFIG, else the XDG path) holds a token this server still
 *    accepts, and neither `--name` nor `--with-token` asks for a new login (re-running the
 *    installer upgrades in place and keeps the machine's identity): device login by default, or with
 *    `--with-token` the token pasted at the terminal (/dev/tty: under `curl | sh` stdin is
 *    the script itself, so it is never read);
 * 5. starts the agent under the user's service manager (`kai-agent service install`) or, where
 *    there is none, in the foreground; `--no-start` stops after step 4.
 *
 * The script is a template literal: `\${` below is sh's `${`, and `\\` one backslash.
 */

/**
 * An origin the script can embed inside single quotes: scheme, host, port and nothing else.
 * `_` is allowed: Compose service names (`http://kai_edge:8787`) have it, and it is no sh syntax.
 */
const SAFE_ORIGIN = /^https?:\/\/[A-Za-z0-9._-]+(:[0-9]{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/;

/** The origin of `url` (PUBLIC_ORIGIN or the request's URL), refused unless it is a plain http(s) origin. */
export function installOrigin(url: string): string {
  const origin = new URL(url).origin;
  if (!SAFE_ORIGIN.test(origin)) throw new Error(`not an origin install.sh can embed: ${origin}`);
  return origin;
}

/** The line to paste on a machine, for a checked origin; `flags` go to the script (e.g. `--with-token`). */
export function installCommand(origin: string, flags = ""): string {
  return installLine(installOrigin(origin), flags);
}

/** The installer for the Kai at `origin`, which is embedded single-quoted after the same check. */
export function installScript(origin: string): string {
  const safe = installOrigin(origin);
  return SCRIPT.replaceAll("__KAI_SERVER__", () => safe);
}

/** Checks the downloaded bundle against the manifest; prints the version, or why not to stderr. */
const VERIFY_JS = [
  'const fs = require("fs"), crypto = require("crypto");',
  "const [manifestFile, bundleFile] = process.argv.slice(1);",
  'const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));',
  "const bytes = fs.readFileSync(bundleFile);",
  'const sha256 = crypto.createHash("sha256").update(bytes).digest("hex");',
  "const fail = (why) => { console.error(why); process.exit(1); };",
  'if (typeof manifest.version !== "string" || !/^[0-9A-Za-z.+-]{1,64}$/.test(manifest.version))',
  '  fail("the manifest names no valid version");',
  "if (bytes.length !== manifest.size)",
  '  fail("its size is " + bytes.length + " bytes, the manifest says " + manifest.size);',
  'if (sha256 !== manifest.sha256) fail("its sha256 is " + sha256 + ", the manifest says " + manifest.sha256);',
  "process.stdout.write(manifest.version);",
].join("\n");

/**
 * Whether the config file's login still works at the server given, by exit code: 0 it does
 * (prints the host's name), 1 no token for this server, 2 the server refuses the token (401:
 * revoked), 3 it could not be checked (network, an older server): kept, a blip is no reason to
 * make a new host. The token goes in a header from the file, never on a command line (`ps`).
 */
const LOGIN_STATE_JS = [
  'const fs = require("fs");',
  "const [file, server] = process.argv.slice(1);",
  "let config;",
  'try { config = JSON.parse(fs.readFileSync(file, "utf8")); } catch { process.exit(1); }',
  "let same = false;",
  'try { same = typeof config.server === "string" && new URL(config.server).origin === new URL(server).origin; }',
  "catch { process.exit(1); }",
  'if (!same || typeof config.token !== "string" || config.token === "") process.exit(1);',
  'fetch(new URL("/api/agent/whoami", server), {',
  '  headers: { authorization: "Bearer " + config.token, accept: "application/json" },',
  "  signal: AbortSignal.timeout(15000),",
  "}).then(async (res) => {",
  "  if (res.status === 401) process.exit(2);",
  "  if (!res.ok) process.exit(3);",
  "  const body = await res.json().catch(() => ({}));",
  '  process.stdout.write(String(body?.data?.name ?? ""));',
  "  process.exit(0);",
  "}, () => process.exit(3));",
].join("\n");

const SCRIPT = `#!/bin/sh
# Installs kai-agent, the Kai agent, for __KAI_SERVER__ in your home directory (no root):
#   curl -fsSL __KAI_SERVER__/install.sh | sh
#   curl -fsSL __KAI_SERVER__/install.sh | sh -s -- --name laptop --no-start --with-token
# It checks Node, downloads the agent this server serves and verifies its checksum, installs it
# in ~/.local, logs this machine in (unless it already is) and starts it. Run it again to upgrade.
set -eu

KAI_SERVER='__KAI_SERVER__'

say() { printf 'kai-install: %s\\n' "$*"; }
fail() {
  printf 'kai-install: %s\\n' "$*" >&2
  exit 1
}

usage() {
  cat <<EOF
Installs kai-agent for $KAI_SERVER in your home directory (no root needed).

  curl -fsSL $KAI_SERVER/install.sh | sh -s -- [options]

Options:
  --name NAME    the name this machine gets in Kai (device login)
  --with-token   paste the agent token the dashboard showed when you enrolled this machine,
                 instead of approving a code
  --no-start     install and log in, but do not start the agent
  -h, --help     show this help
EOF
}

# Everything that acts is in main, called on the last line: under curl | sh, sh runs what it
# has read so far, and a download cut short must run nothing, not half an install.
main() {
  name=''
  with_token=0
  start=1
  while [ $# -gt 0 ]; do
    case $1 in
      --name)
        [ $# -ge 2 ] || fail "--name needs a value, e.g. --name laptop"
        name=$2
        shift 2
        ;;
      --name=*)
        name=\${1#--name=}
        shift
        ;;
      --with-token) with_token=1; shift ;;
      --no-start) start=0; shift ;;
      -h | --help) usage; exit 0 ;;
      *)
        usage >&2
        fail "unknown option: $1"
        ;;
    esac
  done

  [ -n "\${HOME:-}" ] || fail "HOME is not set: kai-agent installs into your home directory"

  if command -v curl >/dev/null 2>&1; then
    fetch() { curl -fsSL -o "$2" "$1"; }
  elif command -v wget >/dev/null 2>&1; then
    fetch() { wget -q -O "$2" "$1"; }
  else
    fail "this needs curl or wget to download kai-agent:" \\
      "install one (e.g. sudo apt-get install curl), then run this again"
  fi

  tmp=$(mktemp -d "\${TMPDIR:-/tmp}/kai-install.XXXXXX") ||
    fail "cannot create a temporary directory in \${TMPDIR:-/tmp}"
  staged=''
  cleanup() {
    rm -rf "$tmp"
    if [ -n "$staged" ]; then rm -f "$staged"; fi
  }
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  # version_at_least FOUND NEEDED: dotted versions compared part by part as numbers (missing parts are 0).
  version_at_least() {
    found_rest=$1.
    need_rest=$2.
    while [ -n "$need_rest" ]; do
      found_part=\${found_rest%%.*}
      need_part=\${need_rest%%.*}
      found_rest=\${found_rest#*.}
      need_rest=\${need_rest#*.}
      found_part=\${found_part%%[!0-9]*}
      found_part=\${found_part:-0}
      need_part=\${need_part:-0}
      if [ "$found_part" -gt "$need_part" ]; then return 0; fi
      if [ "$found_part" -lt "$need_part" ]; then return 1; fi
    done
    return 0
  }

  say "reading what $KAI_SERVER serves ($KAI_SERVER/agent/kai-agent.json)"
  fetch "$KAI_SERVER/agent/kai-agent.json" "$tmp/kai-agent.json" ||
    fail "cannot download $KAI_SERVER/agent/kai-agent.json: check that this machine reaches $KAI_SERVER"

  # A server without the release answers its dashboard's index.html here (200): say what is missing.
  if ! grep -q '"sha256"' "$tmp/kai-agent.json"; then
    fail "$KAI_SERVER/agent/kai-agent.json is not a kai-agent release manifest: this server serves no agent" \\
      "(its operator builds it with npm run build:web before deploying)"
  fi
  # Read with sed: Node is not known to be usable yet.
  node_range=$(sed -n 's/.*"node"[[:space:]]*:[[:space:]]*"//p' "$tmp/kai-agent.json" | sed 's/".*//' | head -n 1)
  need=\${node_range#>=}
  case $node_range in
    '>='[0-9]*) ;;
    *) fail "the manifest from $KAI_SERVER names no Node version this installer understands ('$node_range')" ;;
  esac
  case $need in
    *[!0-9.]*) fail "the manifest from $KAI_SERVER names no Node version this installer understands ('$node_range')" ;;
  esac

  get_node="install Node.js $need or newer (https://nodejs.org/en/download, your package manager,"
  get_node="$get_node or nvm: nvm install --lts), make sure node is on your PATH, then run this again."
  get_node="$get_node Nothing was installed"
  command -v node >/dev/null 2>&1 ||
    fail "kai-agent needs Node.js $need or newer, and there is no node on your PATH: $get_node"
  node_found=$(node --version 2>/dev/null) || fail "$(command -v node) --version failed: $get_node"
  node_found=\${node_found#v}
  version_at_least "$node_found" "$need" ||
    fail "kai-agent needs Node.js $need or newer, and $(command -v node) is $node_found: $get_node"
  node_path=$(node -p process.execPath) || fail "$(command -v node) cannot run: $get_node"
  say "Node $node_found at $node_path: fine (kai-agent needs $need or newer)"

  say "downloading $KAI_SERVER/agent/kai-agent.mjs"
  fetch "$KAI_SERVER/agent/kai-agent.mjs" "$tmp/kai-agent.mjs" ||
    fail "cannot download $KAI_SERVER/agent/kai-agent.mjs: check that this machine reaches $KAI_SERVER"
  version=$("$node_path" -e '${VERIFY_JS}' "$tmp/kai-agent.json" "$tmp/kai-agent.mjs") ||
    fail "the downloaded kai-agent does not match its manifest (above), so nothing was installed." \\
      "Run this again; if it keeps failing, something between this machine and $KAI_SERVER changes downloads"
  say "kai-agent $version: size and sha256 match the manifest"

  data_dir=\${XDG_DATA_HOME:-$HOME/.local/share}/kai
  bin_dir=$HOME/.local/bin
  bundle=$data_dir/kai-agent.mjs
  launcher=$bin_dir/kai-agent
  case $node_path$bundle in
    *"'"*) fail "cannot write a launcher for a path with a single quote in it ($node_path, $bundle)" ;;
  esac
  mkdir -p "$data_dir" "$bin_dir" || fail "cannot create $data_dir and $bin_dir"

  # Written beside its final name, then renamed over it: a running agent keeps the file it has
  # open, and an interrupted install never leaves half a bundle in place.
  staged=$bundle.new.$$
  if ! { cp "$tmp/kai-agent.mjs" "$staged" && chmod 644 "$staged" && mv -f "$staged" "$bundle"; }; then
    fail "cannot install the bundle at $bundle"
  fi
  say "installed $bundle"

  staged=$launcher.new.$$
  write_launcher() {
    printf '#!/bin/sh\\n'
    printf '# kai-agent, installed from %s/install.sh: runs the bundle with the Node it checked.\\n' "$KAI_SERVER"
    printf "exec '%s' '%s' \\"\\$@\\"\\n" "$node_path" "$bundle"
  }
  if ! { write_launcher >"$staged" && chmod 755 "$staged" && mv -f "$staged" "$launcher"; }; then
    fail "cannot install the launcher at $launcher"
  fi
  staged=''
  say "installed $launcher"
  case :$PATH: in
    *":$bin_dir:"*) ;;
    *)
      say "note: $bin_dir is not on your PATH; add it in your shell's profile" \\
        "(export PATH=\\"$bin_dir:\\$PATH\\") or run $launcher"
      ;;
  esac

  # Where kai-agent login and service read it: KAI_CONFIG first, as they do.
  config=\${KAI_CONFIG:-\${XDG_CONFIG_HOME:-$HOME/.config}/kai/agent.json}
  login_state=asked
  if [ "$with_token" = 0 ] && [ -z "$name" ]; then
    login_state=0
    host_name=$("$node_path" -e '${LOGIN_STATE_JS}' "$config" "$KAI_SERVER" 2>/dev/null) || login_state=$?
  fi
  case $login_state in
    0)
      say "already logged in to $KAI_SERVER ($config) as host $host_name: keeping this machine's identity"
      say "(to log in afresh: kai-agent login --server $KAI_SERVER, or run this again with --name NAME)"
      ;;
    3)
      say "already logged in to $KAI_SERVER ($config), but $KAI_SERVER did not answer whether its token still works:" \
        "keeping it (if it was revoked, run this again with --name NAME to log in afresh)"
      ;;
    2) say "$KAI_SERVER refuses the token in $config (the host was removed or its token revoked): logging in afresh" ;;
  esac
  if [ "$login_state" = 0 ] || [ "$login_state" = 3 ]; then
    :
  elif [ "$with_token" = 1 ]; then
    # Under curl | sh, stdin is this script: the token is asked for at the terminal.
    if ! (: </dev/tty) 2>/dev/null; then
      fail "--with-token asks for the token at a terminal and there is none here;" \
        "run: $launcher login --server $KAI_SERVER --with-token < FILE (a file holding only the token), then this again"
    fi
    if [ -n "$name" ]; then
      say "(--name is not used with --with-token: the machine keeps the name it was enrolled with)"
    fi
    say "logging in: paste the agent token the dashboard showed when you enrolled this machine"
    "$launcher" login --server "$KAI_SERVER" --with-token </dev/tty ||
      fail "login did not finish (see above); kai-agent is installed but not logged in: run this again to retry"
  else
    say "logging in: approve this machine in Kai with the code shown below"
    if [ -n "$name" ]; then
      "$launcher" login --server "$KAI_SERVER" --name "$name" </dev/null ||
        fail "login did not finish (see above); kai-agent is installed but not logged in: run this again to retry"
    else
      "$launcher" login --server "$KAI_SERVER" </dev/null ||
        fail "login did not finish (see above); kai-agent is installed but not logged in: run this again to retry"
    fi
  fi

  if [ "$start" = 0 ]; then
    say "done (--no-start): start it with kai-agent, or keep it running with kai-agent service install"
    exit 0
  fi

  manager=''
  case $(uname -s) in
    Linux) if systemctl --user show-environment >/dev/null 2>&1; then manager='systemd (user)'; fi ;;
    Darwin) manager=launchd ;;
  esac
  if [ -n "$manager" ]; then
    say "installing the $manager service: it starts kai-agent now, at each login and after a failure"
    if "$launcher" service install </dev/null; then
      say "done: kai-agent runs as a service; kai-agent service status shows its state and where its log is"
      exit 0
    fi
    say "the service could not be installed (see above): running kai-agent in the foreground instead"
  else
    say "no service manager for your user here (systemctl --user does not answer): running kai-agent in the foreground"
  fi
  say "it stops with this terminal; to keep it running, run kai-agent service install where systemd --user" \\
    "or launchd works, or run kai-agent under tmux or nohup"
  cleanup
  trap - EXIT
  exec "$launcher" </dev/null
}

main "$@"
`;
