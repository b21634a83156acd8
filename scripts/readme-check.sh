#!/usr/bin/env bash
# The README's start command, run as a stranger would: a fresh clone in a temporary folder, the
# command exactly as the README's "Two commands" block writes it, on a machine where the optional
# mediasoup package cannot install (its worker download and its build fallback both fail, as on
# any offline machine). Then /healthz, sign-up and login over HTTP, a call answered UNAVAILABLE
# with a way to enable calls, the README's 30-second tour run twice (it must hold up to a second
# run), and `kill <pid of the start command>` stopping the hub. Then the same start command with
# `npm install --omit=optional`, on a second fresh clone: without Vite's native binding the web app
# cannot build, and the hub must start anyway, with `/` saying why. Needs git, curl and jq.
#
#   bash scripts/readme-check.sh            # from the repository root; .ci/run runs it
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/hub-readme-check.XXXXXX)
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The two commands, verbatim from the README (comments removed). Every pipeline here reads its input
# to the end: a reader that stops early (grep -m1, head) kills the writer with SIGPIPE on a long
# enough input, and under pipefail that ends this script with 141, as it did once the README grew.
block=$(awk '/^## Two commands/{f=1} f&&/^```sh/{g=1;next} g&&/^```/{exit} g' "$repo/README.md")
start_cmd=$(printf '%s\n' "$block" | sed 's/\s*#.*$//' | awk '/npm start/ && !n++')
test_cmd=$(printf '%s\n' "$block" | sed 's/\s*#.*$//' | awk '/npm test/ && !n++')
[ -n "$start_cmd" ] && [ -n "$test_cmd" ] || { echo "README: no start/test command in '## Two commands'" >&2; exit 1; }
echo "README start command: $start_cmd"
echo "README test command:  $test_cmd"

git clone -q "$repo" "$work/hub"
cd "$work/hub"
port=$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

# Runs a start command in the background (its pid in $pid) and waits for /healthz.
start_hub() { # <command> <log file> <what, for messages>
  SECONDS=0
  bash -c "$1" >"$2" 2>&1 &
  pid=$!
  until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -40 "$2"
      echo "$3 exited before /healthz answered" >&2
      exit 1
    fi
    [ "$SECONDS" -lt 600 ] || { tail -40 "$2"; echo "no /healthz within 10 minutes ($3)" >&2; exit 1; }
    sleep 1
  done
  echo "/healthz answered after ${SECONDS}s ($3)"
}

# kill <pid of npm start>, as a user would (bash -c is only our wrapper around the command), and
# checks that the hub stops. (bash runs the last command of `a && b` in its own process, so the
# wrapper may be npm itself.)
stop_hub() { # <what, for messages>
  local npm_pid
  npm_pid=$(pgrep -P "$pid" -f '^npm start' || true)
  if [ -z "$npm_pid" ] && ps -o args= -p "$pid" | grep '^npm start' >/dev/null; then npm_pid=$pid; fi
  [ -n "$npm_pid" ] || { echo "cannot find the npm start process ($1)" >&2; exit 1; }
  kill "$npm_pid"
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 || break
    sleep 0.1
  done
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    echo "the hub still answers after its start command was killed ($1)" >&2
    exit 1
  fi
  pid=
}

# mediasoup cannot install: its prebuilt download goes nowhere, its build fallback has no Python.
export MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL=http://127.0.0.1:9/unreachable PYTHON=/bin/false
# The tour's provisioning key, so the tour can run against this hub.
tour_key=$(awk '/^## A 30-second tour/{f=1}
  f && !n && match($0, /HUB_PROVISIONING_KEY=[^ ]*/) { n = 1; print substr($0, RSTART + 21, RLENGTH - 21) }' "$repo/README.md")
export PORT=$port HOST=127.0.0.1 HUB_PROVISIONING_KEY=$tour_key
start_hub "$start_cmd" "$work/out.log" "the start command"
if [ -d node_modules/mediasoup ]; then echo "mediasoup installed although it should not have" >&2; exit 1; fi

# Sign up, log in, and ask for a call, with the clone's own client library.
HUB_URL="http://127.0.0.1:$port" node --input-type=module -e '
import { io } from "socket.io-client";
const url = process.env.HUB_URL;
const post = async (path, body, token) => {
  const res = await fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};
const email = `readme-${Date.now()}@example.com`;
await post("/v1/auth/register", { email, password: "correct horse battery", nickname: "Ann" });
const { accessToken, user } = await post("/v1/auth/login", { email, password: "correct horse battery" });
const family = await post("/v1/families", { name: "The Parkers" }, accessToken);
const socket = io(url, { auth: { token: accessToken }, transports: ["websocket"], reconnection: false });
const answer = await socket.timeout(10000).emitWithAck("call:start", { familyId: family.id, invitees: [{ kind: "user", id: user.id }], video: false });
socket.close();
if (answer.ok || answer.error.code !== "UNAVAILABLE" || !/docs\/operations\.md#calls/.test(answer.error.message)) {
  throw new Error(`call:start answered ${JSON.stringify(answer)}`);
}
console.log(`signed up and logged in as ${email}; a call answers: ${answer.error.message}`);
'

# The 30-second tour's shell block (the second sh block of that section), twice.
tour=$(awk '/^## A 30-second tour/{f=1} f&&/^```sh/{n++; if(n==2){g=1;next}} g&&/^```/{exit} g' "$repo/README.md")
[ -n "$tour" ] || { echo "README: no tour block" >&2; exit 1; }
tour=${tour//http:\/\/localhost:3000/http:\/\/127.0.0.1:$port}
for run in 1 2; do
  bash -euo pipefail -c "$tour" >"$work/tour-$run.log" 2>&1 || { cat "$work/tour-$run.log"; echo "the tour failed on run $run" >&2; exit 1; }
  grep -q '"location": true' "$work/tour-$run.log" || { cat "$work/tour-$run.log"; echo "the tour did not turn location on (run $run)" >&2; exit 1; }
done
echo "the 30-second tour ran twice"

stop_hub "the start command"
echo "README start command: OK (stopped with kill)"

# Without optional dependencies (no mediasoup, no bufferutil, no native binding for Vite's bundler):
# the hub still starts, and the web app's page says why it is missing.
lean_cmd=${start_cmd/npm install/npm install --omit=optional}
[ "$lean_cmd" != "$start_cmd" ] || { echo "README: the start command does not run npm install" >&2; exit 1; }
echo "lean start command: $lean_cmd"
git clone -q "$repo" "$work/lean"
cd "$work/lean"
start_hub "$lean_cmd" "$work/lean.log" "the start command with --omit=optional"
grep -q "the parents' web app is not built: Vite cannot load" "$work/lean.log" \
  || { tail -40 "$work/lean.log"; echo "the build did not say why the web app is missing" >&2; exit 1; }
status=$(curl -s -o "$work/lean-root.txt" -w '%{http_code}' "http://127.0.0.1:$port/")
[ "$status" = 503 ] && grep -q 'not built on this hub: Vite cannot load' "$work/lean-root.txt" \
  || { echo "/ answered $status: $(cat "$work/lean-root.txt")" >&2; exit 1; }
curl -fsS -X POST -H 'content-type: application/json' "http://127.0.0.1:$port/v1/auth/register" \
  -d '{"email":"lean@example.com","password":"correct horse battery","nickname":"Lean"}' >/dev/null
stop_hub "--omit=optional"
echo "README start command with --omit=optional: OK (web app missing, said why at /)"
