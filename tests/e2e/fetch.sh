# Sourced by run.sh: echoctl fetch against Python's own http.server (HTTP/1.0, a connection per request, a
# listen backlog of 5), the server most people try first. 50 URLs, 20 runs in a row, no failure allowed.

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
  if dotnet "$work/client/echoctl.dll" fetch --out "$work/fetched" "${urls[@]}" >"$work/fetch.out" 2>&1 \
    && [ "$(find "$work/fetched" -type f | wc -l)" -eq 50 ] && cmp -s "$work/site/file50.bin" "$work/fetched/127.0.0.1_${site_port}_file50.bin"; then
    clean_runs=$((clean_runs + 1))
  else
    echo "fetch run $run: $(grep -v '^\s*$' "$work/fetch.out" | tail -3)"
  fi
done
[ "$clean_runs" -eq 20 ] && pass "echoctl fetch: 50 URLs from python3 -m http.server, 20 runs in a row, every file whole" \
  || fail "echoctl fetch against http.server" "$clean_runs of 20 runs clean"
kill "$http_server_pid" 2>/dev/null; wait "$http_server_pid" 2>/dev/null
