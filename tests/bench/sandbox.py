#!/usr/bin/python3
"""Sandbox benchmark: what a packaged unit's sandbox adds to a service's start.

Usage: tests/bench/sandbox.py BOSUN_BINARY > section.md
Prints a Markdown section; nothing is pass/fail (tests never assert timings). Needs root and
Debian's redis-server (its unit file and its user).

bosun runs as PID 1 of fresh namespaces (root, every capability: the whole sandbox is in
force) with two oneshot units that run `redis-server --version` as the `redis` user: `sandboxed.service`
carries every [Service] line of Debian's redis-server.service that is not about the process
itself (no ExecStart=, Type=, PIDFile=, Restart=, Timeout*=), `bare.service` none of them. The
main command starts each unit in turn with bosun's `systemctl start` (which returns once the
oneshot has run and exited), many times, alternating (both run `redis-server --version`, which the unit's ExecPaths= allows); the figure is the median wall time of a
start, and the sandbox's cost is the difference of the medians (the client, the control
socket and the program are the same on both sides). Three more units carry one part of the
sandbox each, to show where its cost is.
"""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

from common import WRAP, write

BOSUN = os.path.realpath(sys.argv[1])
STARTS = int(os.environ.get("BENCH_SANDBOX_STARTS", "300"))
UNIT = "/lib/systemd/system/redis-server.service"
PROCESS_KEYS = {"ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecReload", "Type",
                "PIDFile", "Restart", "TimeoutStopSec", "TimeoutStartSec", "RuntimeDirectory",
                "RuntimeDirectoryMode"}

# The unit's lines about the process rather than its sandbox: every unit below carries them,
# bare.service too, so that the difference is the sandbox's alone.
SHARED_KEYS = {"User", "Group", "UMask", "LimitNOFILE"}

NAMESPACE_KEYS = {"PrivateTmp", "PrivateDevices", "ProtectHome", "ProtectSystem", "ReadWritePaths",
                  "ReadWriteDirectories", "ReadOnlyPaths", "InaccessiblePaths", "ExecPaths",
                  "NoExecPaths", "ProtectKernelTunables", "ProtectControlGroups", "ProtectProc",
                  "ProcSubset", "BindPaths", "BindReadOnlyPaths", "TemporaryFileSystem"}
# The parts of the sandbox, each a unit of its own, to show where the cost is.
PARTS = ["bare", "sandboxed", "filters", "mounts", "userns"]

DRIVER = r'''
import subprocess, sys, time, json
n = int(sys.argv[1])
names = sys.argv[2].split(",")
def start(name):
    t0 = time.perf_counter()
    subprocess.run(["systemctl", "start", name], check=True)
    return (time.perf_counter() - t0) * 1e3
def rounds(names, n):
    times = {name: [] for name in names}
    for name in names:  # warm-up: fills caches
        for _ in range(10):
            start(name)
    for _ in range(n):
        for name in names:
            times[name].append(start(name))
    return times
# Collected: a oneshot that stopped and that nothing refers to is unloaded (as systemd
# collects it), so each start reads its unit file again.
collected = rounds(["bare", "sandboxed"], n // 3)
# Kept loaded, as a packaged daemon's unit is: hold.service, running, Wants= every unit.
subprocess.run(["systemctl", "start", "hold.service"], check=True)
times = rounds(names, n)
state = subprocess.run(["systemctl", "show", "-p", "Result", "--value", "sandboxed"],
                       capture_output=True, text=True).stdout.strip()
print(json.dumps({"times": times, "collected": collected, "result": state}))
'''


# Where the time goes: measured once (2026-12-06 and -07, this machine), not by this script: ftrace's
# sched and system-call events on PID 1 and on the service's child over 100 alternating
# starts (tracing slows system calls, so the parts are read as shares).
WHERE = """Where the sandbox's time goes (measured with ftrace's sched and system-call events on
PID 1 and the child over 100 alternating starts, 2026-12-06; tracing inflates every call, so
the parts are shares of the whole):

- **PID 1 before the fork**: draining an inotify descriptor that says whether any directory
  the unit's 52 paths go through changed (they are looked up again only then, one lstat(2)
  per component), and taking the PrivateTmp= directories the janitor made after the last
  start (two rename(2) calls, after four lstat(2) that check them). No longer there: the 52
  lookups at every start (2026-12-07), reading the mount table and a statfs(2) per mount
  point (kept while mountinfo reports no change), planning the mounts (the plan is kept while
  its inputs are the same), reading the unit's capability sets, making the PrivateTmp=
  directories (4 mkdir(2) and 2 chmod(2), two of them on /var/tmp's disk, 2026-12-07).
- **The child between fork and exec**: joining a copy of the namespace kept from the unit's
  plan (setns(2), unshare(2), the run's two PrivateTmp= trees attached with open_tree(2) and
  move_mount(2)) where it made about 60 mount(2) calls before (it still does at a unit's
  first start, and when what the plan binds changed), one seccomp program of 310
  instructions (the kernel converts, JITs and runs it once per call number to fill its
  action cache: about 0.15 ms; it was three programs of 55, 419 and 255 instructions), 41
  capability drops. No longer there: the helper fork of PrivateUsers= (a kept user
  namespace is joined).
- **The exit**: the run's cleanups handed to the janitor (PrivateTmp='s trees, RemoveIPC='s
  sweep) instead of a fork of PID 1 each, and the namespace let go by the janitor instead of
  by the exiting process (an unmount of every mount and an RCU grace period before PID 1
  heard of the exit); the janitor runs at nice 19, so that this work waits for the next
  start (2026-12-07).

What is left to win, in the order of its weight: the seccomp program (the kernel's x86 JIT
is 84% of its install time, `perf record` of 200 installs of the program taken from a
running service with PTRACE_SECCOMP_GET_FILTER: about 0.13 ms for 310 instructions, and it
grows with the program's length), the copy of the kept namespace for each run (unshare(2):
about 0.08 ms for its 60 mounts), and the two renames of the PrivateTmp= spares on /var/tmp's
disk.
"""


def service_lines():
    """Every [Service] line of the unit that is not about the process's command itself."""
    lines = []
    in_service = False
    for raw in open(UNIT):
        line = raw.strip()
        if line.startswith("["):
            in_service = line == "[Service]"
            continue
        if not in_service or not line or line.startswith("#"):
            continue
        key = line.split("=", 1)[0].strip()
        if key not in PROCESS_KEYS:
            lines.append(line)
    return lines


def sandbox_lines():
    return [l for l in service_lines() if l.split("=", 1)[0].strip() not in SHARED_KEYS]


def shared_lines():
    return [l for l in service_lines() if l.split("=", 1)[0].strip() in SHARED_KEYS]


def main():
    if not os.path.exists(UNIT):
        print("## Sandbox start cost\n\nDebian's redis-server is not installed: not measured.\n")
        return
    work = tempfile.mkdtemp(prefix="sandbox-", dir=os.path.join(os.getcwd(), "target"))
    units = os.path.join(work, "units")
    directives = sandbox_lines()
    head = ("[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\n"
            + "".join(l + "\n" for l in shared_lines()))
    write(os.path.join(units, "sandboxed.service"),
          head + "\n".join(directives) + "\nExecStart=/usr/bin/redis-server --version\n")
    run = "\nExecStart=/usr/bin/redis-server --version\n"
    write(os.path.join(units, "bare.service"), head + run)
    key = lambda d: d.split("=", 1)[0].strip()
    parts = {
        "filters": [d for d in directives if key(d) not in NAMESPACE_KEYS and key(d) != "PrivateUsers"],
        "mounts": [d for d in directives if key(d) in NAMESPACE_KEYS],
        "userns": [d for d in directives if key(d) == "PrivateUsers"],
    }
    for name, lines in parts.items():
        write(os.path.join(units, f"{name}.service"), head + "\n".join(lines) + run)
    write(os.path.join(units, "hold.service"),
          "[Unit]\nWants=" + " ".join(f"{p}.service" for p in PARTS)
          + "\n[Service]\nExecStart=/bin/sleep infinity\n")
    driver = os.path.join(work, "driver.py")
    write(driver, DRIVER)
    systemctl = os.path.join(work, "bin", "systemctl")
    os.makedirs(os.path.dirname(systemctl))
    os.symlink(BOSUN, systemctl)
    env = dict(os.environ, BOSUN_UNIT_PATH=units, BOSUN_ROOT="/",
               PATH=os.path.dirname(systemctl) + ":" + os.environ.get("PATH", ""))
    env.pop("NOTIFY_SOCKET", None)
    out = subprocess.run(WRAP + [BOSUN, "--", "python3", driver, str(STARTS), ",".join(PARTS)], env=env,
                         capture_output=True, text=True, timeout=600)
    import json
    try:
        data = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        sys.exit(f"sandbox bench failed:\n{out.stdout}\n{out.stderr}")
    bare, boxed = data["times"]["bare"], data["times"]["sandboxed"]
    mb, ms = statistics.median(bare), statistics.median(boxed)
    # What each unit adds, as the median of the differences between starts made one after
    # the other (a slow stretch of the machine falls on both).
    added = lambda xs, ys: statistics.median(y - x for x, y in zip(xs, ys))
    q = lambda xs, p: sorted(xs)[int(len(xs) * p)]
    keys = sorted({d.split("=", 1)[0] for d in directives})
    not_in_force = sorted(set(re.findall(r"not in force[^:]*: ([^\n(]*)", out.stderr)))
    print("## Sandbox start cost (Debian's redis-server unit's sandbox against none)\n")
    print(f"Command: `make bench` (runs `tests/bench/sandbox.py {os.path.relpath(BOSUN)}`), "
          f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores. bosun as PID 1 of fresh "
          f"namespaces, as root with every capability; {STARTS} starts of each oneshot unit "
          "(`redis-server --version` as the `redis` user: the unit's ExecPaths= allows no "
          "other program), alternating, each timed around bosun's `systemctl start` (which "
          "returns when the oneshot has exited). The units are kept loaded, as a packaged "
          "daemon's unit is (a running hold.service Wants= them). What a unit adds is the "
          "median of the differences between its start and bare.service's just before it "
          "(a slow stretch of the machine falls on both). Target: under 1 ms added.\n")
    print("| unit | median | p10 | p90 | added (median of paired differences) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| bare.service ({', '.join(shared_lines())}) | {mb:.2f} ms | {q(bare, .1):.2f} ms | "
          f"{q(bare, .9):.2f} ms | |")
    print(f"| **sandboxed.service** ({len(directives)} lines of redis-server.service) | {ms:.2f} ms | "
          f"{q(boxed, .1):.2f} ms | {q(boxed, .9):.2f} ms | **{added(bare, boxed):+.2f} ms** |")
    labels = {"filters": "its seccomp filters, privileges and capability cuts only",
              "mounts": "its mount namespace only (ProtectSystem=strict, PrivateTmp=, ...)",
              "userns": "PrivateUsers= only"}
    for part, label in labels.items():
        xs = data["times"][part]
        print(f"| {part}.service: {label} | {statistics.median(xs):.2f} ms | {q(xs, .1):.2f} ms | "
              f"{q(xs, .9):.2f} ms | {added(bare, xs):+.2f} ms |")
    cb, cs = data["collected"]["bare"], data["collected"]["sandboxed"]
    print(f"| the same two units not kept loaded ({len(cb)} starts each): each start reads the "
          f"unit file again | {statistics.median(cb):.2f} / {statistics.median(cs):.2f} ms | | | "
          f"{added(cb, cs):+.2f} ms |")
    print(f"\nThe sandbox's directives: {', '.join(f'`{k}=`' for k in keys)}. "
          f"Last result of sandboxed.service: `{data['result']}`."
          + (f" bosun said these were not in force: {'; '.join(not_in_force)}." if not_in_force else "")
          + "\n")
    print(WHERE)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
