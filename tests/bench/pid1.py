#!/usr/bin/python3
"""PID 1 benchmark: bosun against tini, tini-static, dumb-init and catatonit, in one run.

Usage: tests/bench/pid1.py BOSUN_STATIC_BINARY > section.md
Prints a Markdown section. Every figure comes from this run on this machine; nothing is
pass/fail here (tests never assert timings). Needs root or unprivileged user namespaces.
"""
import atexit, json, os, shutil, signal, statistics, subprocess, sys, tempfile, time

from common import host_init_pid

BOSUN = os.path.realpath(sys.argv[1])
# bosun boots units as PID 1: give it an empty unit tree (an image without units, the case
# tini covers), never this machine's own units and tmpfiles.d.
EMPTY_ROOT = tempfile.mkdtemp(prefix="bosun-bench-root-")
atexit.register(shutil.rmtree, EMPTY_ROOT, ignore_errors=True)
os.environ["BOSUN_ROOT"] = EMPTY_ROOT
INITS = [
    ("bosun", BOSUN, ["--"]),
    ("bosun (BOSUN_UNITS=off)", BOSUN, ["--"]),
    ("tini", "/usr/bin/tini", ["--"]),
    ("tini-static", "/usr/bin/tini-static", ["--"]),
    ("dumb-init", "/usr/bin/dumb-init", ["--"]),
    ("catatonit", "/usr/bin/catatonit", ["--"]),
]
NS = (["--user", "--map-root-user"] if os.geteuid() != 0 else []) + [
    "--pid", "--fork", "--mount-proc", "--kill-child"]
DEVNULL = subprocess.DEVNULL


def env_for(name):
    env = dict(os.environ)
    if "UNITS=off" in name:
        env["BOSUN_UNITS"] = "off"
    return env


CURRENT = {"name": ""}


def in_namespace(path, pre, cmd, **kw):
    return subprocess.Popen(["unshare", *NS, path, *pre, *cmd], env=env_for(CURRENT["name"]), **kw)


def children(pid):
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        out += [int(p) for p in open(f"/proc/{pid}/task/{task}/children").read().split()]
    return out


def wait_for(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.0005)
    return False


def status_field(pid, name):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def size_and_static(path):
    kind = subprocess.run(["file", "-L", path], capture_output=True, text=True).stdout
    static = "statically linked" in kind or "static-pie" in kind
    return os.path.getsize(path), static


def rss_kib(path, pre):
    p = in_namespace(path, pre, ["sleep", "30"], stdout=DEVNULL, stderr=DEVNULL)
    try:
        pid = host_init_pid(p)
        wait_for(lambda: children(pid))
        time.sleep(0.3)
        return status_field(pid, "VmRSS"), status_field(pid, "RssAnon")
    finally:
        p.kill()
        p.wait()


def sequential_runs(path, pre, runs=200):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(["hyperfine", "-N", "--warmup", "10", "--runs", str(runs),
                        "--export-json", out.name, " ".join([path, *pre, "true"])],
                       check=True, stdout=DEVNULL, stderr=DEVNULL, env=env_for(CURRENT["name"]))
        result = json.load(open(out.name))["results"][0]
    return result["mean"] * 1e3, result["stddev"] * 1e3, sum(result["times"]) * 1e3


def sigterm_latency(path, pre, reps=30):
    samples = []
    for _ in range(reps):
        p = in_namespace(path, pre, ["sleep", "100"], stdout=DEVNULL, stderr=DEVNULL)
        pid = host_init_pid(p)
        wait_for(lambda: children(pid))
        time.sleep(0.02)
        t0 = time.perf_counter()
        os.kill(pid, signal.SIGTERM)
        p.wait()
        samples.append((time.perf_counter() - t0) * 1e3)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


ORPHANS = r"""
import os, sys, time
t0 = time.perf_counter()
for _ in range(10000):
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)
spawned = time.perf_counter()
def zombies():
    n = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = open("/proc/%s/stat" % name).read()
            except OSError:
                continue
            if stat[stat.rfind(")") + 2] == "Z":
                n += 1
    return n
deadline = time.monotonic() + 30
left = zombies()
while left and time.monotonic() < deadline:
    time.sleep(0.001)
    left = zombies()
print("%.1f %.1f %d" % ((spawned - t0) * 1e3, (time.perf_counter() - t0) * 1e3, left))
"""


TRACING = "/sys/kernel/tracing"


def tracing():
    """The kernel's trace directory (tracefs mounted there if it is not), or None."""
    if not os.path.isdir(TRACING):
        return None
    if not os.path.exists(os.path.join(TRACING, "trace_marker")):
        subprocess.run(["mount", "-t", "tracefs", "nodev", TRACING], stderr=DEVNULL)
    usable = os.access(os.path.join(TRACING, "set_event"), os.W_OK)
    return TRACING if usable else None


def boot_as_pid1(path, pre, runs=40):
    """As PID 1 of fresh namespaces, each run with an empty root of its own (a container's
    first start): the kernel's own timestamps (ftrace's sched_process_exec and _exit events)
    from the init's exec to its main command's exec (its boot), and from the main command's
    exec to the init's exit (the main command is /bin/true: its run, and the init's shutdown).
    Medians, and the 10th and 90th percentile of the boot; None where ftrace is unavailable."""
    t = tracing()
    if t is None:
        return None
    def put(name, text):
        with open(os.path.join(t, name), "w") as f:
            f.write(text)
    put("tracing_on", "0")
    put("trace", "")
    put("set_event", "sched:sched_process_exec sched:sched_process_exit\n")
    put("tracing_on", "1")
    try:
        for _ in range(runs):
            root = tempfile.mkdtemp(prefix="bosun-bench-boot-")
            env = dict(env_for(CURRENT["name"]), BOSUN_ROOT=root)
            subprocess.run(["unshare", *NS, path, *pre, "/bin/true"], env=env,
                           stdout=DEVNULL, stderr=DEVNULL, timeout=30)
            shutil.rmtree(root, ignore_errors=True)
    finally:
        put("tracing_on", "0")
        text = open(os.path.join(t, "trace")).read()
        put("set_event", "")
    boots, downs, start, pid, main = [], [], None, None, None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or not fields[3].endswith(":"):
            continue
        ts = float(fields[3].rstrip(":")) * 1e3
        event, rest = fields[4].rstrip(":"), " ".join(fields[5:])
        task = int(fields[0].rsplit("-", 1)[1])
        if event == "sched_process_exec" and f"filename={path} " in rest + " ":
            start, pid, main = ts, task, None
        elif event == "sched_process_exec" and "filename=/bin/true" in rest and start is not None:
            main = ts
            boots.append(ts - start)
        elif event == "sched_process_exit" and task == pid and main is not None:
            downs.append(ts - main)
            start = pid = main = None
    if not boots or not downs:
        return None
    q = lambda xs, p: sorted(xs)[int(len(xs) * p)]
    return statistics.median(boots), q(boots, .1), q(boots, .9), statistics.median(downs)


def reap_orphans(path, pre):
    p = in_namespace(path, pre, ["/usr/bin/python3", "-c", ORPHANS],
                     stdout=subprocess.PIPE, stderr=DEVNULL, text=True)
    out, _ = p.communicate(timeout=120)
    spawn_ms, total_ms, left = out.split()
    return float(spawn_ms), float(total_ms), int(left)


def main():
    inits = [(n, p, pre) for n, p, pre in INITS if os.path.exists(p)]
    missing = [n for n, p, _ in INITS if not os.path.exists(p)]
    rows = []
    for name, path, pre in inits:
        CURRENT["name"] = name
        size, static = size_and_static(path)
        rss = rss_kib(path, pre)
        mean, sd, total = sequential_runs(path, pre)
        lat_med, lat_p90 = sigterm_latency(path, pre)
        spawn_ms, reap_ms, left = reap_orphans(path, pre)
        rows.append((name, size, static, rss, mean, sd, total, lat_med, lat_p90, spawn_ms, reap_ms, left,
                     boot_as_pid1(path, pre)))
        print(f"  measured {name}", file=sys.stderr, flush=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print("## PID 1 core (`bosun -- CMD` against tini, dumb-init, catatonit)\n")
    print(f"Command: `make bench` (runs `tests/bench/pid1.py {os.path.relpath(BOSUN)}`), "
          f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores ({cpu}), kernel {os.uname().release}.")
    if missing:
        print(f"\nNot installed, not measured: {', '.join(missing)}.")
    print("""
bosun runs with `BOSUN_ROOT` pointing at an empty unit tree: an image without units, the
job tini does (its unit engine loads and finds nothing).

- **size**: the binary on disk; **static**: no dynamic loader needed (runs in `FROM scratch`).
- **PID 1 RSS**: VmRSS of the namespace's PID 1 while its child sleeps, and its anonymous part
  (RssAnon: memory of its own; the rest is the binary's pages, shared page cache).
- **200 × `X -- true`**: hyperfine, 200 sequential runs after 10 warm-ups, not as PID 1 (bosun
  and catatonit then register as subreaper); mean ± σ per run, and the total.
- **SIGTERM → exit**: `kill -TERM` to PID 1 of `unshare --pid --fork X -- sleep 100` until
  unshare has reaped it; median and p90 of 30.
- **10,000 orphans**: the main command forks 10,000 orphans that exit at once, then polls /proc
  until no zombie is left; *spawned* is when the last was forked, *all reaped* when /proc showed
  none; *left* is zombies remaining after 30 s.
- **boot as PID 1**: `unshare --pid --fork --mount-proc X -- /bin/true`, 40 runs, each with an
  empty root of its own (a container's first start); the kernel's timestamps (ftrace's
  sched_process_exec and _exit events) from X's exec to the main command's exec (X's boot:
  bosun's includes loading an empty unit tree, its journal's sockets, the control socket and
  /run's setup), median and p10–p90, and from the main command's exec to X's exit (`true`
  runs and X shuts down). Target for bosun's boot (issue 22): under 3 ms.
""")
    print("| init | size | static | PID 1 RSS (anon) | 200 × `X -- true` (per run) | total | SIGTERM → exit (median / p90) | 10,000 orphans: spawned / all reaped | left | boot as PID 1 (p10–p90) / `true` + exit |")
    print("|---|---:|:---:|---:|---:|---:|---:|---:|---:|---:|")
    for (name, size, static, rss, mean, sd, total, lat_med, lat_p90, spawn_ms, reap_ms, left, boot) in rows:
        booted = (f"{boot[0]:.2f} ms ({boot[1]:.2f}–{boot[2]:.2f}) / {boot[3]:.2f} ms" if boot
                  else "not measured (no ftrace)")
        print(f"| {name} | {size/1024:.0f} KiB | {'yes' if static else 'no'} | {rss[0]/1024:.2f} MiB ({rss[1]/1024:.2f}) "
              f"| {mean:.2f} ± {sd:.2f} ms | {total:.0f} ms | {lat_med:.1f} / {lat_p90:.1f} ms "
              f"| {spawn_ms:.0f} / {reap_ms:.0f} ms | {left} | {booted} |")
    by = {r[0]: r for r in rows}
    if "bosun" in by and "tini-static" in by:
        ratio = by["bosun"][4] / by["tini-static"][4]
        print(f"\nbosun's per-run time is {ratio:.2f}× tini-static's in this run "
              f"(target: within 1.10×).")


if __name__ == "__main__":
    main()
