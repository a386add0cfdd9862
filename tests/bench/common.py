"""What the benchmark scripts share (imported from the script's own directory)."""
import os
import time

# As the test harness: fresh PID, mount and network namespaces, private /run and /tmp, so no
# daemon touches this machine's /run or ports.
WRAP = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "--net", "sh", "-c",
        "set -e; ip link set lo up; mount -t tmpfs -o mode=755 bench-run /run; "
        "mount -t tmpfs -o mode=1777 bench-tmp /tmp; exec \"$@\"", "sh"]


def write(path, text):
    """Write `text` to `path`, making its directories."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def host_init_pid(unshare):
    """The host pid of the namespace's PID 1 (unshare's child)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for task in os.listdir(f"/proc/{unshare.pid}/task"):
            kids = open(f"/proc/{unshare.pid}/task/{task}/children").read().split()
            if kids:
                return int(kids[0])
        time.sleep(0.0005)
    raise RuntimeError("init did not appear")
