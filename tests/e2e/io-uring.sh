# Sourced by run.sh: the Linux transport's engines. Each engine serves the same load and returns every socket;
# Auto picks io_uring where the kernel and the seccomp profile allow it, and epoll (saying why) where they do not,
# which no_io_uring makes happen as Docker's and Kubernetes' default seccomp profiles do.
gcc -O2 -Wall -Wextra -Werror -o "$work/no_io_uring" "$here/no_io_uring.c" || fail "build no_io_uring.c"
# Empty where this process may set up a ring as the engine does (SINGLE_ISSUER, DEFER_TASKRUN), else why not.
io_uring_refused=$(python3 -c '
import ctypes, os, struct
params = ctypes.create_string_buffer(120)
struct.pack_into("II", params, 4, 32, 0x1000 | 0x2000 | 0x8 | 0x80)
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.syscall(425, 8, params)
print(os.strerror(ctypes.get_errno()) if fd < 0 else "")
os.close(fd) if fd >= 0 else None')

for kind in IoUring Linux; do
  if [ "$kind" = IoUring ] && [ -n "$io_uring_refused" ]; then
    skip "io_uring engine under load" "this machine refuses io_uring: $io_uring_refused"
    continue
  fi
  if start_host --Transport:Kind="$kind"; then
    # Three rounds on one host: a fault under back pressure can hinge on a race that one round may miss (a send
    # that found the socket full where it could not wait).
    round=0
    while [ $round -lt 3 ] && result=$(python3 "$here/engine_check.py" "$echo_port" "$host_pid" 2>&1); do
      round=$((round + 1))
    done
    if [ $round -eq 3 ]; then
      pass "$kind engine, 3 rounds: $result"
    else
      fail "$kind engine under load (round $((round + 1)) of 3)" "$result"
    fi
    stop_host || fail "SIGTERM exit code ($kind engine)"
  else
    fail "start host ($kind engine)"
  fi
done

if start_host --Transport:Kind=Auto; then
  engine=$(sed -n 's/.*Echo listener on EchoHost.s \([a-z_]*\) transport (Transport:Kind=Auto).*/\1/p' "$log")
  if [ -z "$io_uring_refused" ] && [ "$engine" = io_uring ]; then
    pass "Auto runs io_uring where the machine allows it"
  elif [ -n "$io_uring_refused" ] && [ "$engine" = epoll ] && grep -q "Transport:Kind=Auto runs epoll, not io_uring" "$log"; then
    pass "Auto runs epoll on this machine, which refuses io_uring, and says why"
  else
    fail "Auto's choice" "engine '$engine', io_uring refused: '${io_uring_refused:-no}'; $(grep 'Transport' "$log")"
  fi
  stop_host || fail "SIGTERM exit code (Auto)"
else
  fail "start host (Auto)"
fi

# As in a container with the default seccomp profile.
host_launcher=("$work/no_io_uring")
start_host --Transport:Kind=Auto || fail "start host (Auto under seccomp)"
host_launcher=()
reply=$(printf 'Hello, World!\n' | nc -N 127.0.0.1 "${echo_port:-1}")
if [ "$reply" = "Echoed back: Hello, World!" ] \
  && grep -q "Transport:Kind=Auto runs epoll, not io_uring: io_uring_setup was refused (EPERM)" "$log" \
  && grep -q "Echo listener on EchoHost's epoll transport (Transport:Kind=Auto)" "$log"; then
  pass "Auto under a seccomp profile that refuses io_uring: one Information line says why, epoll serves"
else
  fail "Auto under seccomp" "reply '$reply'; $(grep -i 'transport\|io_uring' "$log" | head -3)"
fi
stop_host || fail "SIGTERM exit code (Auto under seccomp)"

code=0
message=$("$work/no_io_uring" "$work/out/EchoHost" --Transport:Kind=IoUring 2>&1 >/dev/null) || code=$?
[ "$code" -eq 2 ] && [[ "$message" == *"Transport:Kind is 'IoUring', but io_uring_setup was refused (EPERM)"* ]] \
  && [ "$(printf '%s\n' "$message" | wc -l)" -eq 1 ] \
  && pass "IoUring under a seccomp profile that refuses io_uring: exit 2 and one line saying why" \
  || fail "IoUring under seccomp" "exit $code: $message"
