# Sourced by run.sh: echoctl fetch against Python's own http.server (HTTP/1.0, a connection per request, a
# listen backlog of 5), the server most people try first. 50 URLs, 20 runs in a row, no failure allowed.
# echoctl is published as users get it: a native executable (PublishAot).

dotnet publish "$repo/src/EchoHost.Client" -c Release -o "$work/client" --nologo -v quiet >"$work/publish-client.log" 2>&1 \
  || fail "publish echoctl" "$(tail -3 "$work/publish-client.log")"
mkdir -p "$work/site"
for i in $(seq 1 50); do head -c 20000 /dev/urandom >"$work/site/file$i.bin"; done
site_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$site_port" --bind 127.0.0.1 --directory "$work/site" >"$work/http-server.log" 2>&1 &
http_server_pid=$!
for _ in $(seq 1 50); do nc -z 127.0.0.1 "$site_port" 2>/dev/null && break; sleep 0.1; done

urls=()
for i in $(seq 1 50); do urls+=("http://127.0.0.1:$site_port/file$i.bin"); done
clean_runs=0
for run in $(seq 1 20); do
  rm -rf "$work/fetched"
  if "$work/client/echoctl" fetch --out "$work/fetched" "${urls[@]}" >"$work/fetch.out" 2>&1 \
    && [ "$(find "$work/fetched" -type f | wc -l)" -eq 50 ] && cmp -s "$work/site/file50.bin" "$work/fetched/127.0.0.1_${site_port}_file50.bin"; then
    clean_runs=$((clean_runs + 1))
  else
    echo "fetch run $run: $(grep -v '^\s*$' "$work/fetch.out" | tail -3)"
  fi
done
[ "$clean_runs" -eq 20 ] && pass "echoctl fetch: 50 URLs from python3 -m http.server, 20 runs in a row, every file whole" \
  || fail "echoctl fetch against http.server" "$clean_runs of 20 runs clean"
# On a real terminal (script gives echoctl a pseudo-terminal), fetch draws its progress rows and still downloads.
rm -rf "$work/fetched"
if script -qec "$work/client/echoctl fetch --out $work/fetched ${urls[*]:0:10}" /dev/null >"$work/fetch-tty.out" 2>&1 \
  && [ "$(find "$work/fetched" -type f | wc -l)" -eq 10 ] && grep -q "10 URL(s)" "$work/fetch-tty.out" \
  && ! grep -q "Exception" "$work/fetch-tty.out"; then
  pass "echoctl fetch on a terminal: progress rows drawn, 10 files whole"
else
  fail "echoctl fetch on a terminal" "$(tail -3 "$work/fetch-tty.out")"
fi

# 1,000 lines in an input file (names chosen, comments and blank lines skipped), piped: one line per URL.
{
  echo "# the same 50 files, 20 times each, under names of our own"
  for copy in $(seq 1 20); do
    echo
    for i in $(seq 1 50); do printf 'http://127.0.0.1:%s/file%s.bin\tcopy%s-file%s.bin\n' "$site_port" "$i" "$copy" "$i"; done
  done
} >"$work/list.txt"
rm -rf "$work/fetched"
if "$work/client/echoctl" fetch -i "$work/list.txt" --out "$work/fetched" >"$work/fetch-list.out" 2>&1 \
  && [ "$(grep -c '^downloaded ' "$work/fetch-list.out")" -eq 1000 ] && [ "$(find "$work/fetched" -type f | wc -l)" -eq 1000 ] \
  && cmp -s "$work/site/file7.bin" "$work/fetched/copy20-file7.bin"; then
  pass "echoctl fetch -i: 1,000 lines from http.server, one line each, every file whole"
else
  fail "echoctl fetch -i with 1,000 lines" "$(tail -3 "$work/fetch-list.out")"
fi

# Run again: the files are there, so nothing is downloaded or overwritten.
if "$work/client/echoctl" fetch -i "$work/list.txt" --out "$work/fetched" >"$work/fetch-again.out" 2>&1 \
  && [ "$(grep -c '^exists ' "$work/fetch-again.out")" -eq 1000 ]; then
  pass "echoctl fetch -i again: 1,000 files reported as exists, none overwritten"
else
  fail "echoctl fetch -i again" "$(tail -3 "$work/fetch-again.out")"
fi
kill "$http_server_pid" 2>/dev/null; wait "$http_server_pid" 2>/dev/null

# Ctrl+C while a server keeps the download waiting: exit 130, nothing left behind.
silent_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nc -lk 127.0.0.1 "$silent_port" >/dev/null 2>&1 &
silent_pid=$!
for _ in $(seq 1 50); do nc -z 127.0.0.1 "$silent_port" 2>/dev/null && break; sleep 0.1; done
rm -rf "$work/interrupted"
timeout --preserve-status -s INT 3 "$work/client/echoctl" fetch --out "$work/interrupted" "http://127.0.0.1:$silent_port/never" >"$work/fetch-int.out" 2>&1
status=$?
if [ "$status" -eq 130 ] && grep -q "interrupted" "$work/fetch-int.out" && [ -z "$(ls -A "$work/interrupted" 2>/dev/null)" ]; then
  pass "echoctl fetch: Ctrl+C exits 130 and leaves no file"
else
  fail "echoctl fetch Ctrl+C" "exit $status: $(tail -2 "$work/fetch-int.out")"
fi
kill "$silent_pid" 2>/dev/null; wait "$silent_pid" 2>/dev/null

# --- echoctl send and bench on a real terminal ------------------------------------------------------
if start_host; then
  if result=$(expect "$here/send-ctrl-c.exp" "$work/client/echoctl" "$echo_port" 2>&1); then
    pass "echoctl send on a terminal: a typed line is echoed; Ctrl+C: $(printf '%s\n' "$result" | tail -1)"
  else
    fail "echoctl send on a terminal" "$(printf '%s\n' "$result" | tail -3)"
  fi
  if script -qec "$work/client/echoctl bench --port $echo_port --duration 2s" /dev/null >"$work/bench-tty.out" 2>&1 \
    && grep -q "requests/s" "$work/bench-tty.out" && ! grep -q "Exception" "$work/bench-tty.out"; then
    pass "echoctl bench on a terminal: progress line, then the summary table, exit 0"
  else
    fail "echoctl bench on a terminal" "$(tail -3 "$work/bench-tty.out")"
  fi
  stop_host || fail "SIGTERM exit code (echoctl on a terminal)"
else
  fail "start host (echoctl on a terminal)"
fi

# --- echoctl bench over TLS, native client and host in their own processes --------------------------
# Each stream connection half-closes (close_notify, FIN) while its replies, and the server's TLS 1.3 session
# tickets, are still arriving; 30 short runs give that moment many chances to meet a ticket being read.
if start_host --Echo:Tls:Certificate:Path="$work/tls.crt" --Echo:Tls:Certificate:KeyPath="$work/tls.key"; then
  clean_runs=0
  for _ in $(seq 1 30); do
    timeout 20 "$work/client/echoctl" bench --port "$echo_port" --tls --insecure --mode stream --connections 10 --requests 10 \
      --timeout 5s >"$work/bench-tls.out" 2>&1 && clean_runs=$((clean_runs + 1))
  done
  [ "$clean_runs" -eq 30 ] && pass "echoctl bench --tls --mode stream: 30 runs of 10 connections, every half-close answered" \
    || fail "echoctl bench --tls stream half-close" "$clean_runs of 30 runs clean; last: $(tail -2 "$work/bench-tls.out")"
  stop_host || fail "SIGTERM exit code (echoctl bench over TLS)"
else
  fail "start host (echoctl bench over TLS)"
fi

# --- echoctl send relaying piped lines to a close-after-reply server ---------------------------------
# The server answers the first line and closes while echoctl may still be reading or writing the others; every
# run must report both unanswered and exit 1, however the two race.
if start_host --Echo:CloseAfterReply=true; then
  reported=0
  for _ in $(seq 1 50); do
    printf 'one\ntwo\nthree\n' | timeout 10 "$work/client/echoctl" send --host 127.0.0.1 --port "$echo_port" >"$work/send-close.out" 2>&1
    [ $? -eq 1 ] && grep -q "no reply to 'two', 'three'" "$work/send-close.out" && grep -q "^Echoed back: one$" "$work/send-close.out" \
      && reported=$((reported + 1))
  done
  [ "$reported" -eq 50 ] && pass "echoctl send: piped lines to a close-after-reply server, 50 runs, the second and third reported unanswered, exit 1" \
    || fail "echoctl send against close-after-reply" "$reported of 50 runs reported 'two', 'three'; last: $(tail -2 "$work/send-close.out")"
  stop_host || fail "SIGTERM exit code (send against close-after-reply)"
else
  fail "start host (send against close-after-reply)"
fi
