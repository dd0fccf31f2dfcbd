# Sourced by run.sh: the PROXY protocol through a real HAProxy (send-proxy and send-proxy-v2), TLS with the
# real openssl s_client, and both together. Uses start_host, stop_host, log_has, pass and fail from run.sh.

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Writes a TCP-mode HAProxy configuration to $1: each further argument is "FRONT_PORT SEND_PROXY_KEYWORD",
# a frontend on 127.0.0.1:FRONT_PORT forwarding to the echo port with that keyword.
haproxy_config() {
  local file=$1; shift
  printf 'defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n' >"$file"
  for pair in "$@"; do
    set -- $pair
    printf 'frontend front_%s\n  bind 127.0.0.1:%s\n  default_backend back_%s\n' "$1" "$1" "$1" >>"$file"
    printf 'backend back_%s\n  server echo 127.0.0.1:%s %s\n' "$1" "$echo_port" "$2" >>"$file"
  done
}

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 2 \
  -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1 || fail "openssl: make a test certificate"

# --- PROXY protocol behind HAProxy -------------------------------------------------------------------
# HAProxy reaches the host from 127.0.0.1, the one trusted peer; another loopback address stands for any other pod.
if start_host --Echo:ProxyProtocol=Required --Echo:ProxyProtocolTrustedNetworks=127.0.0.1/32; then
  v1_port=$(free_port); v2_port=$(free_port)
  haproxy_config "$work/haproxy.cfg" "$v1_port send-proxy" "$v2_port send-proxy-v2"
  haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  haproxy_pid=$!
  for _ in $(seq 1 50); do nc -z 127.0.0.1 "$v2_port" 2>/dev/null && break; sleep 0.1; done

  for version in 1 2; do
    port_var="v${version}_port"
    client_port=$(free_port)
    reply=$(printf 'through haproxy\n' | nc -N -p "$client_port" 127.0.0.1 "${!port_var}")
    [ "$reply" = "Echoed back: through haproxy" ] && pass "haproxy (PROXY v$version): nc through HAProxy is echoed" \
      || fail "haproxy v$version echo" "got '$reply'; $(tail -3 "$work/haproxy.log")"
    log_has "Connection from 127\.0\.0\.1:$client_port\$" && pass "haproxy v$version: the log names the client's own port $client_port" \
      || fail "haproxy v$version peer" "$(grep 'Connection from' "$log" | tail -2)"
  done

  log_has "PROXY protocol Required \(from 127\.0\.0\.1/32 only\)" && pass "PROXY trusted networks: the start-up line names them" \
    || fail "PROXY trusted networks start-up line" "$(grep 'Echo listener:' "$log")"
  reply=$(printf 'PROXY TCP4 203.0.113.7 127.0.0.1 40000 8888\r\nforged\n' | timeout 5 nc -N -s 127.0.0.2 127.0.0.1 "$echo_port")
  untrusted=$(curl -s "http://127.0.0.1:$health_port/metrics" | sed -n 's/^echohost_connections_rejected_total{.*reason="proxy_untrusted"} \([0-9]*\)$/\1/p')
  [ -z "$reply" ] && [ "$untrusted" = "1" ] && log_has "Closed 1 connection\(s\) from 127\.0\.0\.2:[0-9]+ unread: not a trusted proxy" \
    && ! grep -q "203\.0\.113\.7" "$log" \
    && pass "PROXY from an untrusted peer: closed unread, counted proxy_untrusted, logged with the real peer" \
    || fail "PROXY untrusted peer" "reply '$reply', counted '$untrusted'; $(grep -E 'trusted|203' "$log" | tail -2)"

  reply=$(printf 'no header\n' | timeout 5 nc -N 127.0.0.1 "$echo_port")
  [ -z "$reply" ] && log_has "without a reply: it did not start with a PROXY protocol header" \
    && pass "PROXY required: a plain nc client is closed without a reply, logged at Information" || fail "PROXY plain client" "got '$reply'"

  kill "$haproxy_pid" 2>/dev/null; wait "$haproxy_pid" 2>/dev/null
  stop_host || fail "SIGTERM exit code (PROXY)"
else
  fail "start host (PROXY required)"
fi

# --- TLS with openssl s_client ----------------------------------------------------------------------
if start_host --Echo:Tls:Certificate:Path="$work/tls.crt" --Echo:Tls:Certificate:KeyPath="$work/tls.key"; then
  reply=$( (printf 'Hello, TLS!\n'; sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$echo_port" -quiet 2>/dev/null)
  [ "$reply" = "Echoed back: Hello, TLS!" ] && pass "openssl s_client: a line over TLS is echoed" || fail "TLS echo" "got '$reply'"
  log_has "Echo listener serving on .*:$echo_port \(TLS over TCP\)" && pass "TLS: the start-up line says the port speaks TLS" \
    || fail "TLS start-up line" "$(grep 'serving on' "$log")"

  for protocol in -tls1_2 -tls1_3; do
    reply=$( (printf 'v\n'; sleep 1) | timeout 10 openssl s_client "$protocol" -connect "127.0.0.1:$echo_port" -quiet 2>/dev/null)
    [ "$reply" = "Echoed back: v" ] && pass "openssl s_client $protocol: handshake and echo" || fail "TLS $protocol" "got '$reply'"
  done

  # A handshake storm (two openssl s_time -new loops, full RSA handshakes) while an s_client session types a line
  # every 0.1 s: every line comes back. (s_time hangs up as soon as its side of the handshake is done, before the
  # host has sent its session tickets, so the host counts most of those as failed handshakes: that is s_time's way.)
  storm_pids=()
  for loop in 1 2; do
    openssl s_time -connect "127.0.0.1:$echo_port" -new -time 3 >"$work/s_time.$loop" 2>&1 &
    storm_pids+=($!)
  done
  reply=$( (for i in $(seq 1 20); do printf 'during storm %s\n' "$i"; sleep 0.1; done; sleep 1) \
    | timeout 15 openssl s_client -connect "127.0.0.1:$echo_port" -quiet 2>/dev/null | grep -c '^Echoed back: during storm')
  wait "${storm_pids[@]}"
  storm=$(cat "$work"/s_time.* | awk '/connections in [0-9]+ real seconds/ { n += $1 } END { print n + 0 }')
  [ "$reply" = 20 ] && [ "${storm:-0}" -gt 100 ] \
    && pass "TLS handshake storm: $storm full handshakes by two s_time loops in 3 s, 20 of 20 lines echoed to an s_client session meanwhile" \
    || fail "TLS handshake storm" "echoed $reply of 20, storm handshakes ${storm:-none}"

  reply=$(printf 'plain\n' | timeout 15 nc -N 127.0.0.1 "$echo_port" | tr -d '\0')
  [[ "$reply" != *"Echoed back"* ]] && log_has "the TLS handshake did not complete" \
    && pass "TLS: a plaintext nc client is not echoed and is logged at Information" || fail "TLS plaintext" "got '$reply'"
  stop_host || fail "SIGTERM exit code (TLS)"
else
  fail "start host (TLS)"
fi

# --- the README's TLS commands, as printed, from the repository root ---------------------------------
readme_tls=$(awk '/^## TLS/ { section = 1 } section && /^```sh/ { block = 1; next } block && /^```/ { exit } block' "$repo/README.md")
make_cert=$(printf '%s\n' "$readme_tls" | sed -n 1p)
run_tls=$(printf '%s\n' "$readme_tls" | sed -n 2p)
if [ -e "$repo/cert.pem" ] || [ -e "$repo/key.pem" ]; then
  fail "README TLS commands" "cert.pem or key.pem already in the repository root; not overwriting them"
else
  (cd "$repo" && eval "$make_cert") >/dev/null 2>&1
  # On ephemeral ports (the printed defaults may be taken on a CI machine); in its own session, so that
  # dotnet run and the host it starts stop together.
  (cd "$repo" && exec setsid bash -c "$run_tls --Echo:Port=0 --Health:Port=0") >"$work/readme-tls.log" 2>&1 &
  readme_pid=$!
  readme_port=""
  for _ in $(seq 1 600); do
    readme_port=$(sed -n 's/.*Echo listener serving on .*:\([0-9]*\) (TLS over TCP).*/\1/p' "$work/readme-tls.log")
    [ -n "$readme_port" ] && break
    kill -0 "$readme_pid" 2>/dev/null || break
    sleep 0.2
  done
  reply=""
  [ -n "$readme_port" ] && reply=$( (printf 'readme\n'; sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$readme_port" -quiet 2>/dev/null)
  kill -TERM -- "-$readme_pid" 2>/dev/null
  wait "$readme_pid" 2>/dev/null
  rm -f "$repo/cert.pem" "$repo/key.pem"
  [ "$reply" = "Echoed back: readme" ] && pass "README TLS: its openssl req and dotnet run commands, run from the repository root, serve TLS" \
    || fail "README TLS commands" "got '$reply'; $(tail -3 "$work/readme-tls.log")"
fi

# --- PROXY header, then TLS -------------------------------------------------------------------------
if start_host --Echo:ProxyProtocol=Required --Echo:Tls:Certificate:Path="$work/tls.crt" --Echo:Tls:Certificate:KeyPath="$work/tls.key"; then
  front=$(free_port)
  haproxy_config "$work/haproxy-tls.cfg" "$front send-proxy-v2"
  haproxy -db -f "$work/haproxy-tls.cfg" >"$work/haproxy-tls.log" 2>&1 &
  haproxy_pid=$!
  for _ in $(seq 1 50); do nc -z 127.0.0.1 "$front" 2>/dev/null && break; sleep 0.1; done
  reply=$( (printf 'both\n'; sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$front" -quiet 2>/dev/null)
  [ "$reply" = "Echoed back: both" ] && pass "HAProxy send-proxy-v2 in front of TLS: openssl s_client is echoed" || fail "PROXY then TLS" "got '$reply'"
  kill "$haproxy_pid" 2>/dev/null; wait "$haproxy_pid" 2>/dev/null
  stop_host || fail "SIGTERM exit code (PROXY + TLS)"
else
  fail "start host (PROXY + TLS)"
fi

code=0
message=$("$work/out/EchoHost" --Echo:Tls:Certificate:Path="$work/missing.crt" 2>&1 >/dev/null) || code=$?
[ "$code" -eq 2 ] && [[ "$message" == *"Echo:Tls:Certificate"*"missing.crt"* ]] && [ "$(printf '%s\n' "$message" | wc -l)" -eq 1 ] \
  && pass "missing certificate: exit 2 and one line naming Echo:Tls:Certificate and the file" || fail "missing certificate" "exit $code: $message"
