#!/usr/bin/env bash
# Builds and runs EchoHost the way the Dockerfile does, without a Docker engine: the build stage's COPY lines
# fill a clean folder, its RUN lines run there, the runtime stage's COPY --from=build lines pick what the image
# holds, and that starts with the runtime stage's ENV and ENTRYPOINT (on top of the base image's ASPNETCORE_HTTP_PORTS=8080), then is checked over TCP and HTTP and
# with the HEALTHCHECK command. Sourced by run.sh, which provides pass, fail and $work.

dockerfile="$repo/Dockerfile"
source_dir="$work/docker/source"
build_app_dir="$work/docker/build-app"
app_dir="$work/docker/image/app"
mkdir -p "$source_dir" "$build_app_dir" "$app_dir"

case "$(uname -m)" in
  x86_64) target_arch=amd64 ;;
  aarch64) target_arch=arm64 ;;
  *) target_arch=$(uname -m) ;;
esac

# The instructions of stage N (1-based), one per line, continuation lines joined.
stage() {
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$dockerfile" | grep -v '^\s*#' | grep -v '^\s*$' \
    | awk -v n="$1" '/^FROM /{s++} s==n'
}

# ["a", "b"] -> a b
json_words() { sed -e 's/^\[//; s/\]$//; s/", *"/ /g; s/"//g'; }

copy_into() {
  local dest="$source_dir/${*: -1}" src
  mkdir -p "$dest"
  for src in "${@:1:$#-1}"; do
    if [ -d "$repo/$src" ]; then
      (cd "$repo/$src" && tar --exclude=bin --exclude=obj -cf - .) | (cd "$dest" && tar -xf -)
    else
      cp "$repo/$src" "$dest/"
    fi
  done
}

build_ok=1
while read -r instruction rest; do
  case "$instruction" in
    COPY) read -ra words <<<"$rest"; copy_into "${words[@]}" ;;
    RUN)
      command=${rest//\$TARGETARCH/$target_arch}
      command=${command// \/app/ $build_app_dir}
      (cd "$source_dir" && bash -c "$command") >>"$work/docker/build.log" 2>&1 || { build_ok=0; break; }
      ;;
  esac
done < <(stage 1)

if [ "$build_ok" -eq 1 ] && [ -x "$build_app_dir/EchoHost" ]; then
  pass "Dockerfile build stage: COPY set and RUN lines publish the host"
else
  fail "Dockerfile build stage" "$(tail -5 "$work/docker/build.log")"
fi

runtime=$(stage 2)
# COPY --from=build SOURCE... DEST, with the build stage's /app standing for what its publish wrote.
while read -r _ _ rest; do
  read -ra words <<<"$rest"
  for source in "${words[@]:0:${#words[@]}-1}"; do cp -r "${source/#\/app/$build_app_dir}" "$app_dir/"; done
done < <(grep '^COPY --from=build ' <<<"$runtime")
image_files=$(cd "$app_dir" && find . -type f | sort | tr '\n' ' ')
image_mib=$(du -sm "$app_dir" | cut -f1)
if [ -x "$app_dir/EchoHost" ] && [ -f "$app_dir/appsettings.json" ] && ! find "$app_dir" -name '*.dbg' -o -name '*.pdb' | grep -q .; then
  pass "Dockerfile runtime stage: the image holds the executable and its settings, no symbols (${image_mib} MiB: $image_files)"
else
  fail "Dockerfile runtime stage" "the image would hold: $image_files"
fi
entrypoint=$(sed -n 's/^ENTRYPOINT //p' <<<"$runtime" | json_words)
healthcheck=$(sed -n 's/^HEALTHCHECK .*CMD //p' <<<"$runtime" | json_words)
environment=(ASPNETCORE_HTTP_PORTS=8080)
while read -r assignment; do environment+=("$assignment"); done < <(sed -n 's/^ENV //p' <<<"$runtime")

# Fixed ports stand in for -p 8888:8888 -p 8080:8080, passed the way 'docker run -e' would. The HEALTHCHECK
# finds the host by its configured port, so port 0 cannot be used: take ports below the kernel's ephemeral
# range (where clients' own ports cannot collide), and try again elsewhere if something else holds them.
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range
for _ in 1 2 3 4 5; do
  echo_port=$((10000 + RANDOM % (ephemeral_low - 10001))); health_port=$((echo_port + 1))
  ports=("Echo__Port=$echo_port" "Health__Port=$health_port")
  (cd "$app_dir" && exec env "${environment[@]}" "${ports[@]}" $entrypoint) >"$work/docker/host.log" 2>&1 &
  container_pid=$!
  for _ in $(seq 1 100); do
    grep -q "EchoHost started" "$work/docker/host.log" && break 2
    kill -0 "$container_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$container_pid" 2>/dev/null && break
  wait "$container_pid"
done

reply=$(printf 'Hello, World!\n' | nc -N 127.0.0.1 "$echo_port")
[ "$reply" = "Echoed back: Hello, World!" ] && pass "container: nc to the echo port" || fail "container echo" "got '$reply'; $(tail -3 "$work/docker/host.log")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$health_port/healthz")" = 200 ] && pass "container: /healthz is 200" || fail "container healthz"
grep -q "WRN" "$work/docker/host.log" && fail "container: no warnings at start" "$(grep WRN "$work/docker/host.log")" || pass "container: no warnings at start (HTTP_PORTS cleared)"

(cd "$app_dir" && env "${environment[@]}" "${ports[@]}" $healthcheck) >"$work/docker/probe.log" 2>&1 \
  && pass "container: HEALTHCHECK command exits 0 while serving" || fail "container HEALTHCHECK" "$(cat "$work/docker/probe.log")"

kill -TERM "$container_pid"
code=0; wait "$container_pid" || code=$?
[ "$code" -eq 0 ] && pass "container: SIGTERM exits 0" || fail "container SIGTERM" "exit $code"

code=0; (cd "$app_dir" && env "${environment[@]}" "${ports[@]}" $healthcheck) >/dev/null 2>&1 || code=$?
[ "$code" -eq 1 ] && pass "container: HEALTHCHECK command exits 1 once stopped" || fail "container HEALTHCHECK after stop" "exit $code"
