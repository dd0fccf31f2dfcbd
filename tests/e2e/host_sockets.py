"""What the kernel shows of a host's sockets, for the e2e checks that run against it."""
import os


def sockets(pid):
    """The socket descriptors process PID holds, counted in /proc/PID/fd."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count
