#!/usr/bin/python3
"""Where the corpus boot's time goes under each PID 1: a timeline per unit (its job started,
its main process spawned, it became active) for bosun and for the root's own systemd 252,
booted in the same namespaces over the same root as corpus.py (rootfs.py), runs interleaved,
and the critical chain of each, side by side.

Usage: tests/bench/timeline.py BOSUN_STATIC_BINARY > section.md   (BENCH_TIMELINE_RUNS, default 3)
Needs root; builds the corpus root first when it is missing. Nothing here is pass/fail.

Sources, all turned into milliseconds since the exec of PID 1 (CLOCK_MONOTONIC):
- systemd: `systemctl show -p InactiveExitTimestampMonotonic,ActiveEnterTimestampMonotonic` of
  every loaded unit after READY=1 (its job started: the unit left `inactive`; it became
  active), `systemd-analyze` ("Startup finished in ...") and `systemd-analyze critical-chain`.
- bosun: it has no InactiveExitTimestampMonotonic, ActiveEnterTimestampMonotonic or
  ExecMainStartTimestampMonotonic property; what it has is the time of each unit's last change
  of active state (`StateChangeTimestamp`, which `systemctl show` prints to the second), asked
  here to the millisecond on its control socket (`units`, `since_ms`): for a unit active at
  READY=1, when it became active. Its console is no clock: bosun prints its notes once per
  turn of its loop, after the turn's work, so a note of a turn that spawned 30 services is
  stamped after all 30. With `-vv` it says when it loaded the units (`tracking service
  processes by ...`, said right after loading them, before the default target is queued),
  and how long it took by its own clock:
  the built-in SysV generator, each generator process, tmpfiles.d, loading the units,
  queueing the default target with the dispatch of its first jobs (`boot phases: ...`).
- both: `spawned`, when the kernel started the unit's main process (/proc/PID/stat, 10 ms
  ticks), for units whose main process still runs at READY=1 (a forking daemon's is the
  process it forked); from the kernel's tracepoints (`perf record -e
  sched:sched_process_fork,sched:sched_process_exec` over the boot, when perf works here),
  PID 1's forks and its first child that exec'd anything but a generator; PID 1's CPU time
  at READY=1 (/proc/PID/stat).
- the critical chain: for both PID 1s the same walk as `systemd-analyze critical-chain`
  (analyze-critical-chain.c, fuzz 0) over these times: from the default target, each time the
  unit it is ordered after (After=, and Before= of the other) that became active last; `@`
  when it became active, `+` how long it was activating (systemd: since its job started;
  bosun: since its main process was started, where it still runs at READY=1).
- the shutdown: after READY=1 and a second's pause, the stop signal a runtime sends (SIGTERM
  to bosun, SIGRTMIN+3 to systemd); when each unit's cgroup emptied (`cgroup.events`, polled
  from the host every 20 ms) and when PID 1 exited.
"""
import json, os, re, signal, socket, statistics, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rootfs  # noqa: E402

BOSUN = os.path.realpath(sys.argv[1]) if __name__ == "__main__" else None
RUNS = int(os.environ.get("BENCH_TIMELINE_RUNS", "3"))
TCK = os.sysconf("SC_CLK_TCK")
SIGRTMIN_3 = signal.SIGRTMIN + 3

INITS = [
    ("bosun", dict(argv=["/usr/local/bin/bosun", "-vv"], layers=[rootfs.BOSUN_LAYER]),
     signal.SIGTERM),
    ("systemd 252", dict(argv=["/lib/systemd/systemd"]), SIGRTMIN_3),
]

PROPS = ("Id,After,Before,MainPID,ActiveState,InactiveExitTimestampMonotonic,"
         "ActiveEnterTimestampMonotonic")
# Every loaded unit's properties, the stat line of each live MainPID (inside the container:
# its pids), and the default target.
COLLECT = ("systemctl show -p " + PROPS + " -- $(systemctl list-units --all --plain --no-legend "
           "| awk '{print $1}'); echo '--stat'; systemctl show -p MainPID --value -- "
           "$(systemctl list-units --all --plain --no-legend --type=service | awk '{print $1}') "
           "| while read p; do [ \"$p\" -gt 0 ] 2>/dev/null && cat /proc/$p/stat; done; "
           "echo '--default'; systemctl get-default")
ANALYZE = ("systemd-analyze; echo '--chain'; systemd-analyze critical-chain --no-pager")

# bosun -vv's console: when a phase was said to be over (seconds since exec, stamped when
# read), and the durations bosun measured itself (ms, by its own clock).
PHASES = [
    ("volume phase over (said at)", re.compile(r"^bosun: (no template at|.*volume)"), None),
    ("units loaded (said at)",
     re.compile(r"^bosun: tracking service processes by"), None),
]
DURATIONS = [
    ("built-in SysV generator (took)", re.compile(r"^bosun: debug: built-in SysV generator done in (\d+) ms")),
    ("generator processes (took, each in turn)", re.compile(r"^bosun: debug: generator .* done in (\d+) ms")),
    ("tmpfiles.d (took)", re.compile(r"^bosun: debug: boot phases: tmpfiles.d (\d+) ms")),
    ("loading the units (took)", re.compile(r"^bosun: debug: boot phases: .* units loaded (\d+) ms")),
    ("queueing the default target, dispatching its first jobs (took)",
     re.compile(r"^bosun: debug: boot phases: .* queued (?:and its first jobs dispatched )?(\d+) ms")),
]


def parse_show(text):
    """`systemctl show` blocks: {Id: {prop: value}}."""
    units = {}
    for block in text.split("\n\n"):
        props = dict(l.split("=", 1) for l in block.splitlines() if "=" in l)
        if props.get("Id"):
            units[props["Id"]] = props
    return units


class Trace:
    """PID 1's forks, from the kernel's sched_process_fork tracepoint (perf), when perf works."""

    def __init__(self):
        self.file = tempfile.NamedTemporaryFile(prefix="bosun-timeline-", suffix=".perf",
                                                delete=False).name
        try:
            self.proc = subprocess.Popen(
                ["perf", "record", "-q", "--clockid", "monotonic", "-a", "-e",
                 "sched:sched_process_fork", "-e", "sched:sched_process_exec", "-o", self.file],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # perf's own start-up, before the boot
            if self.proc.poll() is not None:
                self.proc = None
        except OSError:
            self.proc = None

    def events(self, parent, until):
        """PID 1's forks up to `until` (monotonic times) and its children's execs (monotonic
        time, path), from host pid `parent`; (None, None) without perf."""
        if self.proc is None:
            return None, None
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait()
        out = subprocess.run(["perf", "script", "-i", self.file, "-F", "time,event,trace"],
                             capture_output=True, text=True).stdout
        os.unlink(self.file)
        forks, children, execs = [], set(), []
        for line in out.splitlines():
            m = re.match(r"\s*([\d.]+):\s+sched:sched_process_fork:.* pid=(\d+) "
                         r"child_comm=.* child_pid=(\d+)", line)
            if m and int(m.group(2)) == parent and float(m.group(1)) <= until:
                forks.append(float(m.group(1)))
                children.add(int(m.group(3)))
                continue
            m = re.match(r"\s*([\d.]+):\s+sched:sched_process_exec: filename=(\S+) "
                         r"pid=(\d+)", line)
            if m and int(m.group(3)) in children:
                execs.append((float(m.group(1)), m.group(2)))
                children.discard(int(m.group(3)))
        return forks, execs

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.path.exists(self.file):
            os.unlink(self.file)


def bosun_phases(log, exec_line):
    """What bosun's console said of its phases: when (seconds since exec) and how long (s)."""
    phases = {}
    for line in open(log, errors="replace"):
        m = re.match(r"\[\s*([\d.]+)\] (.*)$", line.rstrip("\n"))
        if not m:
            continue
        for name, pattern, _ in PHASES:
            if pattern.match(m.group(2)):
                phases[name] = float(m.group(1)) - exec_line
        for name, pattern in DURATIONS:
            d = pattern.match(m.group(2))
            if d:
                phases[name] = phases.get(name, 0) + int(d.group(1)) / 1000
    return phases


def bosun_units(pid):
    """since_ms of every unit, from bosun's control socket (its `units` call)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(f"/proc/{pid}/root/run/bosun/control.sock")
    sock.sendall(json.dumps({"version": 1, "request": {"op": "units", "names": []}}).encode()
                 + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    sock.close()
    return {u["name"]: u for u in json.loads(data).get("units", [])}


def start_times(text, boot_minus_mono):
    """{pid: monotonic start} from /proc/PID/stat lines (the kernel's start time, in ticks)."""
    out = {}
    for line in text.splitlines():
        if ")" in line:
            fields = line.rsplit(")", 1)[1].split()
            out[int(line.split()[0])] = int(fields[19]) / TCK - boot_minus_mono
    return out


def ordering(units):
    """{unit: the units it is ordered after}: its After=, and the Before= of the others."""
    after = {u: set(p.get("After", "").split()) for u, p in units.items()}
    for u, p in units.items():
        for later in p.get("Before", "").split():
            after.setdefault(later, set()).add(u)
    return after


def stopped_after(units, unit):
    """The units `unit` is ordered after, directly or not: at shutdown they stop after it."""
    after, found, todo = ordering(units), set(), [unit]
    while todo:
        for d in after.get(todo.pop(), ()):
            if d not in found:
                found.add(d)
                todo.append(d)
    return found


def critical_chain(units, times, root, finish):
    """analyze-critical-chain.c's walk (fuzz 0): lines (depth, unit, activated, took)."""
    lines, seen = [], set()
    after = ordering(units)

    def activated(u):
        t = times.get(u)
        return t[1] if t and t[1] is not None and t[1] <= finish else None

    def walk(name, depth):
        mine = activated(name)
        # A unit whose last change of state came after the unit ordered after it (bosun's
        # since_ms of a path unit that triggered, say) says nothing about the chain.
        deps = [d for d in after.get(name, ()) if activated(d) is not None
                and (mine is None or activated(d) <= mine)]
        if not deps:
            return
        last = max(activated(d) for d in deps)
        dep = sorted(d for d in deps if activated(d) == last)[0]
        start = times[dep][0]
        lines.append((depth, dep, last, last - start if start is not None else 0.0))
        if dep in seen:
            return
        seen.add(dep)
        walk(dep, depth + 1)

    t = activated(root)
    lines.append((0, root, t, 0.0))
    walk(root, 1)
    return lines


class Stops:
    """When each unit's cgroup under the boot's delegated tree emptied, polled from the host
    (`cgroup.events` says `populated 0`, or the directory is gone) while PID 1 shuts down:
    systemd's are system.slice/NAME, bosun's NAME. Monotonic times."""

    def __init__(self, top):
        self.top = top
        self.live = {}
        for d, _, files in os.walk(top):
            name = os.path.basename(d)
            if name.endswith((".service", ".scope")) and "cgroup.events" in files \
                    and self.populated(d):
                self.live[name] = d
        self.emptied = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)

    @staticmethod
    def populated(d):
        try:
            return "populated 1" in open(os.path.join(d, "cgroup.events")).read()
        except OSError:
            return False

    def poll(self):
        while self.live and not self.done.is_set():
            now = time.monotonic()
            for name, d in list(self.live.items()):
                if not self.populated(d):
                    self.emptied[name] = now
                    del self.live[name]
            time.sleep(0.02)


def stop_and_watch(boot, sig):
    """Stop PID 1 with `sig`: (seconds to its exit, {unit: seconds to its cgroup emptied})."""
    stops = Stops(boot.cgroup)
    stops.thread.start()
    t0 = time.monotonic()
    total = boot.stop(sig)
    stops.done.set()
    stops.thread.join()
    return total, {u: t - t0 for u, t in stops.emptied.items()}, sorted(stops.live)


def boot_once(name, kw, sig):
    trace = Trace()
    boot = rootfs.Boot("timeline " + name, **kw)
    try:
        ready = boot.wait_ready()
        pid = boot.init_pid()
        stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        cpu = (int(stat[11]) / TCK, int(stat[12]) / TCK)
        real_minus_mono = time.time() - time.monotonic()
        ready_mono = boot.ready_at - real_minus_mono
        exec_mono = boot.exec_at() - real_minus_mono
        forks, execs = trace.events(pid, ready_mono)
        show, _, rest = boot.run(COLLECT).partition("--stat")
        stats, _, default = rest.partition("--default")
        units = parse_show(show)
        boot_minus_mono = time.clock_gettime(time.CLOCK_BOOTTIME) - time.monotonic()
        started = start_times(stats, boot_minus_mono)
        bosun = name.startswith("bosun")
        infos = bosun_units(pid) if bosun else {}
        analyze = "" if bosun else boot.run(ANALYZE)
        # Let what READY=1 set going settle for a moment (both alike), as corpus.py does.
        time.sleep(1)
        shutdown, stopped, unstopped = stop_and_watch(boot, sig)
    finally:
        trace.close()
        boot.close()
    if forks is not None:
        # The setup's own (ip, mount) came before the exec.
        forks = [f - exec_mono for f in forks if f >= exec_mono]
        execs = [(t - exec_mono, path) for t, path in execs if t >= exec_mono]
    else:
        execs = None
    # A unit's main process, when it still runs: when the kernel started it.
    spawned = {u: started[int(p["MainPID"])] - exec_mono for u, p in units.items()
               if p.get("MainPID", "0").isdigit() and int(p.get("MainPID", "0")) in started}
    if bosun:
        def since(info):
            ms_ = info.get("since_ms") if info else None
            return ms_ / 1000 - real_minus_mono - exec_mono if ms_ else None
        times = {}
        for u, props in units.items():
            info = infos.get(u)
            active = since(info) if props.get("ActiveState") == "active" else None
            times[u] = [spawned.get(u, active), active]
        exec_line = next(float(re.match(r"\[\s*([\d.]+)\]", l).group(1))
                         for l in open(boot.log, errors="replace") if "bench-exec-at" in l)
        phases = bosun_phases(boot.log, exec_line)
    else:
        def since(v):
            return int(v) / 1e6 - exec_mono if v and v != "0" else None
        times = {u: [since(p.get("InactiveExitTimestampMonotonic")),
                     since(p.get("ActiveEnterTimestampMonotonic"))] for u, p in units.items()}
        phases = {}
    for t in times.values():
        if t[0] is None and t[1] is not None:
            t[0] = t[1]
    first_unit = next((t for t, path in execs or () if "generator" not in path), None)
    return dict(ready=ready, cpu=cpu, units=units, times=times, spawned=spawned, phases=phases,
                default=default.strip() or "default.target", analyze=analyze, forks=forks,
                first_unit=first_unit, shutdown=shutdown, stopped=stopped, unstopped=unstopped)


def ms(v):
    return "—" if v is None else f"{v * 1000:.0f}"


def span(values, unit=" s", scale=1.0, digits=2):
    values = [v * scale for v in values if v is not None]
    if not values:
        return "—"
    return (f"{statistics.median(values):.{digits}f}{unit} "
            f"({min(values):.{digits}f}–{max(values):.{digits}f})")


def main():
    rootfs.ensure_root()
    rootfs.make_bosun_layer(BOSUN)
    load = open("/proc/loadavg").read().split()[:3]
    runs = {name: [] for name, _, _ in INITS}
    for name, kw, sig in INITS:
        rootfs.say(f"timeline: warm-up boot of {name}")
        boot_once(name, kw, sig)
    for run in range(RUNS):
        for name, kw, sig in INITS:
            r = boot_once(name, kw, sig)
            rootfs.say(f"timeline: run {run + 1}/{RUNS} {name}: ready {r['ready']:.2f} s, "
                       f"CPU {sum(r['cpu']):.2f} s")
            runs[name].append(r)

    print("## Corpus root: where the boot's time goes (bosun against systemd 252)\n")
    print(f"Command: `tests/bench/timeline.py {os.path.relpath(BOSUN)}` (BENCH_TIMELINE_RUNS="
          f"{RUNS}), {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} "
          f"cores, load average at start {' '.join(load)}. The corpus root and namespaces of the "
          f"section above; bosun run with `-vv`; {RUNS} runs each after one warm-up boot, "
          f"interleaved; median (min–max). All times are from the exec of PID 1. How each "
          f"figure is taken: the script's docstring.\n")
    print("| | bosun | systemd 252 |")
    print("|---|---:|---:|")
    rows = [
        ("ready (READY=1)", lambda r: r["ready"], " s", 1, 2),
        ("PID 1 CPU time at READY=1 (user + system)", lambda r: sum(r["cpu"]), " s", 1, 2),
        ("… of it system", lambda r: r["cpu"][1], " s", 1, 2),
        ("PID 1's first child that exec'd a unit's program (no generator)",
         lambda r: r["first_unit"], " ms", 1000, 0),
        ("PID 1's forks before READY=1", lambda r: len(r["forks"]) if r["forks"] is not None
         else None, "", 1, 0),
        ("sysinit.target active", lambda r: r["times"].get("sysinit.target", [0, None])[1],
         " ms", 1000, 0),
        ("basic.target active", lambda r: r["times"].get("basic.target", [0, None])[1],
         " ms", 1000, 0),
    ]
    for label, get, unit, scale, digits in rows:
        cells = [span([get(r) for r in runs[name]], unit, scale, digits)
                 for name, _, _ in INITS]
        print(f"| {label} | {cells[0]} | {cells[1]} |")
    if any(r["forks"] is None for rs in runs.values() for r in rs):
        rootfs.say("timeline: SKIP the fork figures: `perf record -e sched:sched_process_fork` "
                   "does not work here (Debian's linux-perf, root)")
    for phase in [p[0] for p in PHASES] + [d[0] for d in DURATIONS]:
        print(f"| bosun: {phase} | "
              f"{span([r['phases'].get(phase) for r in runs['bosun']], ' ms', 1000, 0)} | |")
    print()

    # The run of each whose ready is the median: its critical chain and its slow units.
    median = {}
    for name, _, _ in INITS:
        ordered = sorted(runs[name], key=lambda r: r["ready"])
        median[name] = ordered[len(ordered) // 2]
    print("Critical chains of the median run of each (the walk of `systemd-analyze "
          "critical-chain` over the times above; `@` active at, `+` activating for):\n")
    columns = []
    for name, _, _ in INITS:
        r = median[name]
        chain = critical_chain(r["units"], r["times"], r["default"], r["ready"])
        col = [f"{name}: ready {r['ready']:.3f} s"]
        for depth, unit, at, took in chain:
            at_s = "?" if at is None else f"@{at * 1000:.0f}ms"
            plus = f" +{took * 1000:.0f}ms" if took and took > 0 else ""
            col.append("  " * depth + f"{unit} {at_s}{plus}")
        columns.append(col)
    width = max(len(l) for l in columns[0]) + 3
    print("```")
    for i in range(max(len(c) for c in columns)):
        left = columns[0][i] if i < len(columns[0]) else ""
        right = columns[1][i] if i < len(columns[1]) else ""
        print(f"{left:<{width}}{right}".rstrip())
    print("```\n")
    analyze = median["systemd 252"]["analyze"].strip()
    if analyze:
        head, _, chain = analyze.partition("--chain")
        print("systemd's own view of that run (`systemd-analyze`, `systemd-analyze "
              "critical-chain`):\n")
        print("```")
        print(head.strip())
        print(chain.strip())
        print("```\n")

    print("Shutdown of the same runs: the stop signal (SIGTERM to bosun, with its default 5 s "
          "stop timeout; SIGRTMIN+3 to systemd, 90 s) until each unit's cgroup emptied "
          "(polled every 20 ms from the host) and until PID 1 exited:\n")
    print("| | bosun | systemd 252 |")
    print("|---|---:|---:|")

    def others(r):
        """Units that neither are squid nor stop after it by their ordering."""
        skip = stopped_after(r["units"], "squid.service") | {"squid.service", "init.scope"}
        return {u: t for u, t in r["stopped"].items() if u not in skip}

    def but_squid(r):
        rest = others(r)
        return max(rest.values()) if rest else None
    for label, get in [
        ("PID 1 exited", lambda r: r["shutdown"]),
        ("every unit stopped but squid and those it is ordered after (they stop after it)",
         but_squid),
        ("squid.service stopped", lambda r: r["stopped"].get("squid.service")),
    ]:
        cells = [span([get(r) for r in runs[name]]) for name, _, _ in INITS]
        print(f"| {label} | {cells[0]} | {cells[1]} |")
    print()
    print("The last of those to stop in the median run of each (seconds after the signal): "
          + "; ".join(f"{name}: " + ", ".join(
              f"{u} {t:.2f}" for u, t in sorted(others(median[name]).items(),
                                                 key=lambda x: -x[1])[:5])
              for name, _, _ in INITS)
          + ". Ordered after squid (stopped after it): " + ", ".join(sorted(
              u for u in stopped_after(median["bosun"]["units"], "squid.service")
              if u.endswith(".service"))) + ".\n")

    print("Units of the median runs by when they became active, the last 25 of either "
          "(ms since exec: job started / main process spawned / active; bosun has no "
          "job-start time: its first column repeats the spawn, else the activation):\n")
    b, s = median["bosun"], median["systemd 252"]
    names = set(b["times"]) | set(s["times"])

    def last(u):
        return max((r["times"].get(u, [None, None])[1] or 0) for r in (b, s))
    print("| unit | bosun | systemd 252 |")
    print("|---|---:|---:|")
    for u in sorted(names, key=last, reverse=True)[:25]:
        cells = []
        for r in (b, s):
            t = r["times"].get(u, [None, None])
            cells.append(f"{ms(t[0])} / {ms(r['spawned'].get(u))} / {ms(t[1])}")
        print(f"| {u} | {cells[0]} | {cells[1]} |")
    print()


if __name__ == "__main__":
    main()
