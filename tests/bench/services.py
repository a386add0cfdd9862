#!/usr/bin/python3
"""Service benchmark: bosun's unit engine as PID 1, beside supervisord from Debian, in one run.

Usage: tests/bench/services.py BOSUN_BINARY > section.md
Prints a Markdown section. Every figure comes from this run on this machine; nothing is
pass/fail here (tests never assert timings). Needs root (private mount and network namespaces,
Debian's redis-server).

- 100 units in a dependency DAG (half Type=notify, half Type=simple): launch → all active (the
  main command starts once boot has settled), and SIGTERM → exit with all stopped.
- 100 independent services against supervisord's 100 programs: launch → all running (each
  writes a marker file as it starts), SIGTERM → exit.
- 20 services idle for 60 s: PID 1's CPU time (schedstat, ns) and RSS, against supervisord.
- Debian's redis-server (Type=notify) from its own unit: launch → active.
"""
import os, shutil, signal, statistics, subprocess, sys, tempfile, time

from common import WRAP, host_init_pid, write

BOSUN = os.path.realpath(sys.argv[1])
IDLE_SECONDS = int(os.environ.get("BENCH_IDLE_SECONDS", "60"))
RUNS = 5
WORK = tempfile.mkdtemp(prefix="services-", dir=os.path.join(os.getcwd(), "target"))
DEVNULL = subprocess.DEVNULL


def unit_tree(name, count, dag, notify_every):
    """A unit tree of `count` services under WORK/name; returns (root, marker dir)."""
    root = os.path.join(WORK, name, "root")
    marks = os.path.join(WORK, name, "marks")
    units = os.path.join(root, "etc/systemd/system")
    os.makedirs(os.path.join(units, "multi-user.target.wants"))
    os.makedirs(marks)
    for i in range(count):
        deps = ""
        if dag and i > 0:
            # A DAG: each unit needs its parent in a binary tree and is ordered after a
            # second unit of the layer above, so the boot is parallel but ordered.
            parents = {(i - 1) // 2, max(0, (i - 1) // 2 - 1)}
            names = " ".join(f"s{p}.service" for p in sorted(parents))
            deps = f"Wants={names}\nAfter={names}\n"
        touch = f"touch {marks}/{i}"
        if notify_every and i % notify_every == 0:
            service = ("Type=notify\nNotifyAccess=all\n"
                       f"ExecStart=/bin/sh -c '{touch}; systemd-notify --ready; exec sleep infinity'\n")
        else:
            service = f"ExecStart=/bin/sh -c '{touch}; exec sleep infinity'\n"
        write(os.path.join(units, f"s{i}.service"), f"[Unit]\nDescription=s{i}\n{deps}[Service]\n{service}")
        os.symlink(f"../s{i}.service", os.path.join(units, "multi-user.target.wants", f"s{i}.service"))
    return root, marks


def supervisor_conf(name, count):
    marks = os.path.join(WORK, name, "marks")
    os.makedirs(marks)
    conf = os.path.join(WORK, name, "supervisord.conf")
    text = ["[supervisord]", "nodaemon=true", f"logfile={WORK}/{name}/supervisord.log",
            f"pidfile={WORK}/{name}/supervisord.pid", "loglevel=warn", ""]
    for i in range(count):
        text += [f"[program:s{i}]", f"command=/bin/sh -c 'touch {marks}/{i}; exec sleep infinity'",
                 "startsecs=0", "autorestart=true", "stopsignal=TERM", ""]
    write(conf, "\n".join(text))
    return conf, marks


def exe_of(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def wait_for(cond, timeout=60, step=0.0005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    raise RuntimeError("timed out")


def count(marks):
    return len(os.listdir(marks))


def bosun_env(root, **extra):
    env = dict(os.environ, BOSUN_ROOT=root, **extra)
    env.pop("NOTIFY_SOCKET", None)
    return env


def dag_boot(root, marks):
    """Launch → main command running (boot settled, all active); SIGTERM → exit. Every
    service has run once the main command runs (a Type=simple one is active once forked: its
    marker may come a little later)."""
    stamp = os.path.join(WORK, "stamp")
    if os.path.exists(stamp):
        os.unlink(stamp)
    for m in os.listdir(marks):
        os.unlink(os.path.join(marks, m))
    t0 = time.time()
    p = subprocess.Popen(WRAP + [BOSUN, "--", "sh", "-c", f"date +%s.%N > {stamp}; exec sleep 100"],
                         env=bosun_env(root), stdout=DEVNULL, stderr=DEVNULL)
    wait_for(lambda: os.path.exists(stamp) and os.path.getsize(stamp) > 0)
    booted = float(open(stamp).read()) - t0
    wait_for(lambda: count(marks) >= 100)
    pid = host_init_pid(p)
    t1 = time.perf_counter()
    os.kill(pid, signal.SIGTERM)
    p.wait(timeout=60)
    return booted * 1e3, (time.perf_counter() - t1) * 1e3


def flat_boot(cmd, env, marks, total):
    """Launch → every service wrote its marker; SIGTERM → exit."""
    for m in os.listdir(marks):
        os.unlink(os.path.join(marks, m))
    t0 = time.perf_counter()
    p = subprocess.Popen(WRAP + cmd, env=env, stdout=DEVNULL, stderr=DEVNULL)
    wait_for(lambda: count(marks) >= total)
    up = time.perf_counter() - t0
    pid = host_init_pid(p)
    time.sleep(0.5)
    t1 = time.perf_counter()
    os.kill(pid, signal.SIGTERM)
    p.wait(timeout=60)
    return up * 1e3, (time.perf_counter() - t1) * 1e3


def cpu_ns(pid):
    return int(open(f"/proc/{pid}/schedstat").read().split()[0])


def status_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def anon_of_the_binary(pid):
    """KiB of the anonymous part that is the program file's own mappings (its relocated data:
    a static-pie binary's .data.rel.ro, copied on write when the loader relocates it) rather
    than memory it allocated."""
    exe = os.readlink(f"/proc/{pid}/exe")
    total, current = 0, None
    for line in open(f"/proc/{pid}/smaps"):
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
            current = fields[5] if len(fields) > 5 else ""
        elif fields[0] == "Anonymous:" and current == exe:
            total += int(fields[1])
    return total


def idle(cmd, env, marks, total, want_exe):
    """PID 1's (or supervisord's) CPU time over IDLE_SECONDS with `total` services up, and RSS."""
    p = subprocess.Popen(WRAP + cmd, env=env, stdout=DEVNULL, stderr=DEVNULL)
    try:
        wait_for(lambda: count(marks) >= total)
        pid = host_init_pid(p)
        assert want_exe in exe_of(pid), exe_of(pid)
        time.sleep(2)
        before = cpu_ns(pid)
        time.sleep(IDLE_SECONDS)
        spent = cpu_ns(pid) - before
        return (spent / 1e6, status_kib(pid, "VmRSS"), status_kib(pid, "RssAnon"),
                anon_of_the_binary(pid))
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def redis_latency():
    unit = "/lib/systemd/system/redis-server.service"
    if not os.path.exists(unit):
        return None
    units = os.path.join(WORK, "redis-units")
    os.makedirs(os.path.join(units, "multi-user.target.wants"))
    os.symlink(unit, os.path.join(units, "redis-server.service"))
    os.symlink("../redis-server.service", os.path.join(units, "multi-user.target.wants", "redis-server.service"))
    stamp = os.path.join(WORK, "redis-stamp")
    samples = []
    for _ in range(RUNS):
        if os.path.exists(stamp):
            os.unlink(stamp)
        t0 = time.time()
        p = subprocess.Popen(WRAP + [BOSUN, "--", "sh", "-c",
                                     f"date +%s.%N > {stamp}; redis-cli -h 127.0.0.1 ping > {stamp}.ping"],
                             env=bosun_env("/", BOSUN_UNIT_PATH=units), stdout=DEVNULL, stderr=DEVNULL)
        p.wait(timeout=60)
        assert open(stamp + ".ping").read().strip() == "PONG"
        samples.append((float(open(stamp).read()) - t0) * 1e3)
    # The same launch with no unit at all: what is bosun and the namespace setup, not redis.
    empty = os.path.join(WORK, "empty-root")
    os.makedirs(empty, exist_ok=True)
    base = []
    for _ in range(RUNS):
        t0 = time.time()
        p = subprocess.Popen(WRAP + [BOSUN, "--", "sh", "-c", f"date +%s.%N > {stamp}"],
                             env=bosun_env(empty), stdout=DEVNULL, stderr=DEVNULL)
        p.wait(timeout=60)
        base.append((float(open(stamp).read()) - t0) * 1e3)
    return statistics.median(samples), statistics.median(base)


def median_pair(samples):
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def flat_pair(n, have_supervisord):
    """n independent services under bosun and, when installed, n programs under supervisord:
    the medians of (launch → all running, SIGTERM → exit) each; None for a missing supervisord."""
    root, marks = unit_tree(f"flat{n}", n, dag=False, notify_every=0)
    bosun = median_pair([flat_boot([BOSUN], bosun_env(root), marks, n) for _ in range(RUNS)])
    sup = None
    if have_supervisord:
        conf, sup_marks = supervisor_conf(f"sup{n}", n)
        sup = median_pair([flat_boot(["supervisord", "-c", conf], dict(os.environ), sup_marks, n)
                           for _ in range(RUNS)])
    print(f"  measured {n} flat services", file=sys.stderr, flush=True)
    return bosun, sup


def main():
    have_supervisord = shutil.which("supervisord") is not None
    dag_root, dag_marks = unit_tree("dag", 100, dag=True, notify_every=2)
    dag = median_pair([dag_boot(dag_root, dag_marks) for _ in range(RUNS)])
    # What the order costs apart from the services' own readiness: the same DAG with every
    # unit Type=simple, and 100 units with no order at all, to the same end (boot settled).
    simple_root, simple_marks = unit_tree("dag-simple", 100, dag=True, notify_every=0)
    dag_simple = median_pair([dag_boot(simple_root, simple_marks) for _ in range(RUNS)])
    none_root, none_marks = unit_tree("no-order", 100, dag=False, notify_every=0)
    no_order = median_pair([dag_boot(none_root, none_marks) for _ in range(RUNS)])
    print("  measured the 100-unit DAG", file=sys.stderr, flush=True)

    flat, sup = flat_pair(100, have_supervisord)
    # Scale: five times as many, to show how start and stop grow with the number of units.
    big, sup_big = flat_pair(500, have_supervisord)

    idle_root, idle_marks = unit_tree("idle", 20, dag=False, notify_every=0)
    b_idle = idle([BOSUN], bosun_env(idle_root), idle_marks, 20, "bosun")
    s_idle = None
    if have_supervisord:
        conf, sup_idle_marks = supervisor_conf("sup-idle", 20)
        s_idle = idle(["supervisord", "-c", conf], dict(os.environ), sup_idle_marks, 20, "python3")
    print("  measured idle", file=sys.stderr, flush=True)

    redis = redis_latency()
    print("  measured redis", file=sys.stderr, flush=True)

    print("## Services (the unit engine as PID 1, beside supervisord)\n")
    print(f"Command: `make bench` (runs `tests/bench/services.py {os.path.relpath(BOSUN)}`), "
          f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores. Each run is a fresh PID, mount and "
          f"network namespace; medians of {RUNS} runs. Targets from the services issue are beside "
          "the figures.\n")
    print("| measure | bosun | supervisord | target |")
    print("|---|---:|---:|---|")
    na = "not installed"
    print(f"| 100 units in a DAG (50 Type=notify, 50 simple): launch → all active | {dag[0]:.0f} ms | n/a (no dependencies) | |")
    print(f"| the same 100: SIGTERM → all stopped, exit | {dag[1]:.0f} ms | n/a | |")
    print(f"| the same DAG, every unit Type=simple: launch → all active | {dag_simple[0]:.0f} ms | n/a | |")
    print(f"| 100 units without order (Type=simple): launch → all active | {no_order[0]:.0f} ms | n/a | |")
    print(f"| 100 independent services: launch → all running | {flat[0]:.0f} ms | "
          f"{f'{sup[0]:.0f} ms' if sup else na} | |")
    print(f"| the same 100: SIGTERM → all stopped, exit | {flat[1]:.0f} ms | "
          f"{f'{sup[1]:.0f} ms' if sup else na} | |")
    print(f"| 500 independent services: launch → all running | {big[0]:.0f} ms | "
          f"{f'{sup_big[0]:.0f} ms' if sup_big else na} | |")
    print(f"| the same 500: SIGTERM → all stopped, exit | {big[1]:.0f} ms | "
          f"{f'{sup_big[1]:.0f} ms' if sup_big else na} | |")
    print(f"| 20 services, {IDLE_SECONDS} s idle: CPU time of the supervisor | {b_idle[0]:.2f} ms | "
          f"{f'{s_idle[0]:.2f} ms' if s_idle else na} | under 10 ms |")
    print(f"| 20 services: RSS of the supervisor (anonymous part) | {b_idle[1]/1024:.2f} MiB ({b_idle[2]/1024:.2f}) | "
          f"{f'{s_idle[1]/1024:.2f} MiB ({s_idle[2]/1024:.2f})' if s_idle else na} | under 4 MiB (anonymous: under 1 MiB) |")
    print(f"| 20 services: of that anonymous part, bosun's own relocated data (the rest is memory it allocated) | "
          f"{b_idle[3]:.0f} KiB | n/a | |")
    if redis:
        print(f"| Debian's redis-server (Type=notify, own unit): launch → active | {redis[0]:.0f} ms "
              f"(launch of an empty bosun: {redis[1]:.0f} ms) | n/a | under 100 ms |")
    else:
        print("| Debian's redis-server: not installed, not measured | | | |")
    print("""
- *launch → all active*: from starting `unshare … bosun -- CMD` until CMD runs; bosun starts
  the main command once every job of the boot has finished, so every unit is active by then.
- *The DAG's order*: each unit Wants= and is After= its parent in a binary tree and one more
  unit of the layer above: 7 layers. A unit starts when the units it is ordered after are
  active, and a Type=notify unit is active when its process said READY=1: here a shell that
  runs `touch` and then Debian's `systemd-notify` (dynamically linked against
  libsystemd-shared), so each notify unit on the path adds its shell's, touch's and
  systemd-notify's start to the boot. The three rows *launch → all active* measure the same end:
  what no order takes, what the order alone adds (Type=simple everywhere: a unit is active
  once forked, so its dependents start in the same turn of PID 1's loop), and what the
  services' own readiness adds on top.
- *launch → all running*: until each of the 100 services has written its marker file (polled
  every 0.5 ms); supervisord's programs use `startsecs=0` so none waits.
- *CPU time*: `/proc/PID/schedstat` of the supervisor (bosun as PID 1; supervisord as PID 1
  too) over the idle period, after 2 s to settle.
""")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
