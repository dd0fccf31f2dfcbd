# Sourced by run.sh: a real Prometheus server scrapes the published host's /metrics, and its HTTP API must
# return the counters for a known workload. Uses start_host, stop_host, pass and fail from run.sh.

if start_host; then
  prom_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$work/prometheus.yml" <<CFG
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: echohost
    static_configs:
      - targets: ["127.0.0.1:$health_port"]
CFG
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus-data" \
    --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
  prometheus_pid=$!

  for line in one two three; do printf '%s\n' "$line" | nc -N 127.0.0.1 "$echo_port" >/dev/null; done
  printf 'four\nfive\n' | nc -N 127.0.0.1 "$echo_port" >/dev/null

  query() {
    curl -s "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" \
      | python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null
  }
  opened=""; messages=""
  for _ in $(seq 1 60); do
    opened=$(query 'echohost_connections_opened_total{job="echohost"}')
    messages=$(query 'echohost_messages_received_total{job="echohost"}')
    [ "$opened" = 4 ] && [ "$messages" = 5 ] && break
    sleep 0.5
  done
  [ "$opened" = 4 ] && pass "prometheus: scraped echohost_connections_opened_total = 4" || fail "prometheus opened" "got '$opened'; $(tail -3 "$work/prometheus.log")"
  [ "$messages" = 5 ] && pass "prometheus: scraped echohost_messages_received_total = 5" || fail "prometheus messages" "got '$messages'"

  kill "$prometheus_pid" 2>/dev/null; wait "$prometheus_pid" 2>/dev/null
  stop_host || fail "SIGTERM exit code (metrics)"
else
  fail "start host (metrics)"
fi
