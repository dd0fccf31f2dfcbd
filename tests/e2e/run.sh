#!/usr/bin/env bash
# End-to-end: publish the host, start it as users do, and drive it with the real telnet (through expect)
# and nc binaries. Prints one PASS/FAIL line per case and ends with "e2e: N passed, M failed, K skipped".
# Needs: dotnet, telnet, expect, nc (netcat-openbsd), curl, haproxy, openssl, prometheus, python3, and Debian's
# python3-seccomp for /usr/bin/python3.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/tests/e2e"
work=$(mktemp -d)
passed=0
failed=0
skipped=0
host_pid=""

cleanup() {
  [ -n "$host_pid" ] && kill -KILL "$host_pid" 2>/dev/null
  [ -n "${container_pid:-}" ] && kill -KILL "$container_pid" 2>/dev/null
  [ -n "${haproxy_pid:-}" ] && kill -KILL "$haproxy_pid" 2>/dev/null
  [ -n "${prometheus_pid:-}" ] && kill -KILL "$prometheus_pid" 2>/dev/null
  [ -n "${http_server_pid:-}" ] && kill -KILL "$http_server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

for tool in telnet expect nc curl haproxy openssl prometheus python3; do
  command -v "$tool" >/dev/null || { echo "e2e: missing $tool (apt-get install -y telnet expect netcat-openbsd curl haproxy openssl prometheus)"; exit 2; }
done

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }

# Published for this machine's runtime, as the Dockerfile publishes for its target: a Native AOT executable.
echo "e2e: publishing the host (Native AOT)"
dotnet publish "$repo/src/EchoHost" -c Release --use-current-runtime -o "$work/out" --nologo -v quiet >"$work/publish.log" 2>&1 \
  || { cat "$work/publish.log"; echo "e2e: 0 passed, 1 failed, 0 skipped"; exit 1; }

if layout=$(python3 "$here/hot_path_layout.py" "$work/out/EchoHost.dbg" "$repo/src/EchoHost/HotPath.order" 2>&1); then
  pass "Native AOT: the per-request methods of HotPath.order laid out together ($layout)"
else
  fail "hot path layout" "$layout"
fi

# Starts the published host from an unrelated directory on ephemeral ports, through the launcher command in
# host_launcher when one is set (a seccomp filter); sets echo_port and health_port from its start-up log, which is
# the only place the real ports are announced.
host_launcher=()
start_host() {
  log="$work/host.log"
  (cd / && exec ${host_launcher[@]+"${host_launcher[@]}"} "$work/out/EchoHost" --Echo:Port=0 --Health:Port=0 "$@") >"$log" 2>&1 &
  host_pid=$!
  for _ in $(seq 1 100); do
    echo_port=$(sed -n 's/.*Echo listener serving on .*:\([0-9]*\) (\(raw\|TLS over\) TCP).*/\1/p' "$log")
    health_port=$(sed -n 's/.*Health listener serving on .*:\([0-9]*\) (HTTP.*/\1/p' "$log")
    [ -n "$echo_port" ] && [ -n "$health_port" ] && return 0
    sleep 0.1
  done
  echo "host did not start:"; cat "$log"; return 1
}

# The log sink is asynchronous: a line can reach the file a moment after the client's exchange ends,
# so look for it until a deadline instead of once.
log_has() {
  for _ in $(seq 1 50); do
    grep -Eq "$1" "$log" && return 0
    sleep 0.1
  done
  return 1
}

# Stops the host with SIGTERM and checks it exits 0.
stop_host() {
  kill -TERM "$host_pid"
  local code=0
  wait "$host_pid" || code=$?
  host_pid=""
  return "$code"
}

# --- default mode -----------------------------------------------------------------------------
if start_host; then
  if expect "$here/telnet-echo.exp" 127.0.0.1 "$echo_port" >"$work/telnet.out" 2>&1; then
    pass "telnet: typing 'Hello, World!' shows 'Echoed back: Hello, World!'"
  else
    fail "telnet echo" "$(tail -5 "$work/telnet.out")"
  fi

  reply=$(printf 'Hello, World!\n' | nc -N 127.0.0.1 "$echo_port")
  [ "$reply" = "Echoed back: Hello, World!" ] && pass "nc: one line echoed, connection closed after nc's FIN" || fail "nc echo" "got '$reply'"

  reply=$(printf 'one\ntwo\nthree\n' | nc -N 127.0.0.1 "$echo_port")
  [ "$reply" = $'Echoed back: one\nEchoed back: two\nEchoed back: three' ] && pass "nc: several lines, replies in order" || fail "nc lines" "got '$reply'"

  printf 'bin\x00\xff\xfe\r\n' >"$work/binary.in"
  printf 'Echoed back: bin\x00\xff\xfe\r\n' >"$work/binary.expected"
  nc -N 127.0.0.1 "$echo_port" <"$work/binary.in" >"$work/binary.out"
  cmp -s "$work/binary.expected" "$work/binary.out" && pass "nc: NUL, invalid UTF-8 and CR echoed verbatim" || fail "nc binary" "$(od -c "$work/binary.out" | head -3)"

  log_has "Data received: 'Hello, World!\\\\n'" && pass "log: Data received shown like Python repr" || fail "log repr" "$(grep 'Data received' "$log" | head -2)"
  log_has "Connection from 127\.0\.0\.1:[0-9]+$" && pass "log: Connection from 127.0.0.1:PORT" || fail "log peer" "$(grep 'Connection from' "$log" | head -2)"

  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$health_port/healthz")" = 200 ] && pass "curl: /healthz is 200" || fail "healthz"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$health_port/readyz")" = 200 ] && pass "curl: /readyz is 200" || fail "readyz"

  # An idle connection at shutdown must see FIN (nc exits on its own), and the host must exit 0.
  # Wait for the host to log the connection, so shutdown really meets an open connection.
  connections=$(grep -c "Connection from" "$log")
  nc 127.0.0.1 "$echo_port" </dev/null >"$work/idle.out" 2>&1 &
  idle_pid=$!
  for _ in $(seq 1 50); do [ "$(grep -c "Connection from" "$log")" -gt "$connections" ] && break; sleep 0.1; done
  if stop_host; then pass "SIGTERM: host exits 0"; else fail "SIGTERM exit code"; fi
  if timeout 5 tail --pid="$idle_pid" -f /dev/null; then pass "SIGTERM: idle nc client sees the server close"; else fail "SIGTERM FIN"; kill "$idle_pid"; fi
else
  fail "start host (default)"
fi

# --- close after reply --------------------------------------------------------------------------
if start_host --Echo:CloseAfterReply=true; then
  if expect "$here/telnet-close.exp" 127.0.0.1 "$echo_port" >"$work/telnet-close.out" 2>&1; then
    pass "telnet: close-after-reply shows 'Connection closed by foreign host.'"
  else
    fail "telnet close-after-reply" "$(tail -5 "$work/telnet-close.out")"
  fi
  reply=$(printf 'first\nsecond\n' | timeout 5 nc 127.0.0.1 "$echo_port")
  [ "$reply" = "Echoed back: first" ] && pass "nc: close-after-reply answers the first line and closes" || fail "nc close-after-reply" "got '$reply'"
  stop_host || fail "SIGTERM exit code (close-after-reply)"
else
  fail "start host (close-after-reply)"
fi

# --- receive mode -------------------------------------------------------------------------------
if start_host --Echo:Mode=Receive; then
  reply=$(printf 'Hello, World!\r\n' | nc -N 127.0.0.1 "$echo_port")
  [ -z "$reply" ] && log_has "Data received: 'Hello, World!\\\\r\\\\n'" \
    && pass "nc: receive mode logs and writes nothing" \
    || fail "receive mode" "reply '$reply', log: $(grep 'Data received' "$log" | head -2)"
  stop_host || fail "SIGTERM exit code (receive)"
else
  fail "start host (receive)"
fi

# --- invalid settings ---------------------------------------------------------------------------
code=0
message=$("$work/out/EchoHost" --Echo:Port=70000 2>&1 >/dev/null) || code=$?
[ "$code" -eq 2 ] && [[ "$message" == *"Echo:Port is '70000'"* ]] && [ "$(printf '%s\n' "$message" | wc -l)" -eq 1 ] \
  && pass "invalid Echo:Port: exit 2 and one line naming the key and value" || fail "invalid settings" "exit $code: $message"

# --- the health port under slow HTTP clients -----------------------------------------------------
for kind in Linux Sockets; do
  if start_host --Transport:Kind="$kind"; then
    if result=$(python3 "$here/slow_health.py" "$health_port" 2>&1); then
      pass "health port ($kind transport), 300 slow clients holding half-sent requests: $result"
    else
      fail "health port under slow clients ($kind transport)" "$result"
    fi
    stop_host || fail "SIGTERM exit code (slow health clients, $kind)"
  else
    fail "start host (slow health clients, $kind)"
  fi
done

# --- the Linux transport's engines: io_uring, epoll, and Auto's choice between them --------------------
source "$here/io-uring.sh"

# --- clients that misbehave, on every transport ------------------------------------------------------
for kind in IoUring Linux Sockets; do
  if [ "$kind" = IoUring ] && [ -n "$io_uring_refused" ]; then
    skip "rude clients on the io_uring engine" "this machine refuses io_uring: $io_uring_refused"
    continue
  fi
  if start_host --Transport:Kind="$kind"; then
    if result=$(python3 "$here/rude_clients.py" "$echo_port" "$host_pid" 2>&1); then
      if grep -Eq ' (WRN|ERR|FTL)\]' "$log"; then
        fail "rude clients ($kind transport): the host logged a warning or error" "$(grep -E ' (WRN|ERR|FTL)\]' "$log" | head -2)"
      else
        pass "rude clients ($kind transport): $result; nothing logged above Information"
      fi
    else
      fail "rude clients ($kind transport)" "$result"
    fi
    stop_host || fail "SIGTERM exit code (rude clients, $kind)"
  else
    fail "start host (rude clients, $kind)"
  fi
done

# --- PROXY protocol and TLS -----------------------------------------------------------------------
source "$here/proxy-tls.sh"

# --- the io-uring component's seccomp profile, applied as a kubelet would ---------------------------
source "$here/seccomp-profile.sh"

# --- metrics, scraped by a real Prometheus ---------------------------------------------------------
source "$here/prometheus.sh"

# --- echoctl fetch against a real http.server ---------------------------------------------------
source "$here/fetch.sh"

# --- the Dockerfile, step by step ----------------------------------------------------------------
source "$here/dockerfile.sh"

echo "e2e: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
