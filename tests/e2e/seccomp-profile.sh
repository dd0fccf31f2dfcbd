# Sourced by run.sh after io-uring.sh and proxy-tls.sh: the io-uring component's Localhost seccomp profile. The
# host runs under it as a kubelet would apply it, except that a call the profile does not name kills the host
# (--strict), so a call the list misses fails here instead of in a cluster. Under it, Auto must choose io_uring
# and serve load, TLS and the health port, and stop cleanly.
profile="$repo/deploy/kubernetes/components/io-uring/echohost-io-uring.json"
if [ -n "$io_uring_refused" ]; then
  skip "the io-uring component's seccomp profile" "this machine refuses io_uring: $io_uring_refused"
elif ! /usr/bin/python3 -c 'import seccomp' 2>/dev/null; then
  fail "the io-uring component's seccomp profile" "/usr/bin/python3 has no seccomp module (apt-get install -y python3-seccomp)"
else
  host_launcher=(/usr/bin/python3 "$here/seccomp_profile.py" --strict "$profile")
  if start_host --Transport:Kind=Auto; then
    if ! grep -q "Echo listener on EchoHost's io_uring transport (Transport:Kind=Auto)" "$log"; then
      fail "seccomp profile: Auto chooses io_uring" "$(grep -i 'transport' "$log" | head -2)"
    elif ! result=$(python3 "$here/engine_check.py" "$echo_port" "$host_pid" 2>&1); then
      fail "seccomp profile: io_uring under load" "$result"
    elif [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$health_port/readyz")" != 200 ] \
      || ! curl -s "http://127.0.0.1:$health_port/metrics" | grep -q '^echohost_connections_opened_total'; then
      fail "seccomp profile: health port" "/readyz or /metrics did not answer"
    else
      pass "seccomp profile (strict): Auto runs io_uring, $result, /readyz and /metrics answer"
    fi
    stop_host && pass "seccomp profile (strict): SIGTERM exits 0" || fail "seccomp profile: SIGTERM exit code (killed by a call the profile lacks?)"
  else
    fail "start host under the seccomp profile"
  fi

  if start_host --Echo:Tls:Certificate:Path="$work/tls.crt" --Echo:Tls:Certificate:KeyPath="$work/tls.key"; then
    reply=$( (printf 'under seccomp\n'; sleep 1) | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$echo_port" 2>/dev/null)
    if [ "$reply" = "Echoed back: under seccomp" ] && kill -0 "$host_pid" 2>/dev/null; then
      pass "seccomp profile (strict): a TLS line is echoed"
    else
      fail "seccomp profile: TLS echo" "reply '$reply'"
    fi
    stop_host || fail "seccomp profile: SIGTERM exit code (TLS)"
  else
    fail "start host under the seccomp profile (TLS)"
  fi
  host_launcher=()
fi
