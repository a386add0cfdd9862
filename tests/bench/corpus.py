#!/usr/bin/python3
"""Boot to ready and shutdown of the issue-19 corpus root: bosun as PID 1 beside the root's own
systemd 252, booted in the same namespaces (rootfs.py), runs interleaved.

Usage: tests/bench/corpus.py BOSUN_STATIC_BINARY > section.md   (BENCH_CORPUS_RUNS, default 5)
Prints a Markdown section. Needs root. Builds the root first when it is missing (a few minutes,
about 170 MB downloaded once). Nothing here is pass/fail: tests never assert timings.

- ready: from the exec of PID 1 to its READY=1 on NOTIFY_SOCKET (a socket this script reads).
  systemd 252 sends it when its boot transaction has no job left ("Startup finished",
  manager_check_finished()); bosun when the boot's jobs have settled. The same event for both:
  every unit the default target pulls in has started or failed.
- shutdown: from the signal a container runtime sends (SIGTERM for bosun; SIGRTMIN+3, podman's
  StopSignal for systemd images, for systemd) until PID 1 has exited.
- units: after READY=1, the image's own `systemctl` inside the container (bosun's personality
  under bosun): `is-system-running`, active units, failed units.
"""
import os, platform, signal, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rootfs  # noqa: E402

BOSUN = os.path.realpath(sys.argv[1])
RUNS = int(os.environ.get("BENCH_CORPUS_RUNS", "5"))
SIGRTMIN_3 = signal.SIGRTMIN + 3

INITS = [
    ("bosun", dict(argv=["/usr/local/bin/bosun"], layers=[rootfs.BOSUN_LAYER]), signal.SIGTERM),
    ("bosun, `BOSUN_STOP_TIMEOUT=90s`",
     dict(argv=["/usr/local/bin/bosun"], layers=[rootfs.BOSUN_LAYER],
          env=["BOSUN_STOP_TIMEOUT=90s"]), signal.SIGTERM),
    ("systemd 252", dict(argv=["/lib/systemd/systemd"]), SIGRTMIN_3),
]

UNITS = ("echo \"state $(systemctl is-system-running 2>&1)\"; "
         "echo \"active $(systemctl list-units --no-legend --plain --state=active | wc -l)\"; "
         "echo \"services $(systemctl list-units --no-legend --plain --state=active --type=service | wc -l)\"; "
         "systemctl list-units --no-legend --plain --state=failed | awk '{print \"failed \" $1}'")


def boot_once(name, kw, sig, count_units):
    boot = rootfs.Boot(name, **kw)
    try:
        ready = boot.wait_ready()
        units = boot.run(UNITS) if count_units else ""
        # Let what READY=1 set going settle for a moment (both inits alike).
        time.sleep(1)
        down = boot.stop(sig)
        return ready, down, boot.status(), units, shutdown_words(boot.log)
    finally:
        boot.close()


def shutdown_words(log):
    """What bosun said about a stop that timed out or a shutdown held (its console)."""
    said = []
    for line in open(log, errors="replace"):
        text = line.split("] ", 1)[-1].strip()
        if text.startswith("bosun:") and ("result 'timeout'" in text or "held by" in text):
            said.append(text)
    return said


def parse_units(text):
    state, active, services, failed = "?", 0, 0, []
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "state":
            state = value
        elif key == "active":
            active = int(value)
        elif key == "services":
            services = int(value)
        elif key == "failed":
            failed.append(value)
    return state, active, services, failed


def span(values):
    return f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


def main():
    rootfs.ensure_root()
    rootfs.make_bosun_layer(BOSUN)
    load = open("/proc/loadavg").read().split()[:3]
    results = {name: [] for name, _, _ in INITS}
    units = {}
    words = {}
    # One boot of each first, not counted (page cache), then the runs interleaved.
    for name, kw, sig in INITS:
        rootfs.say(f"corpus bench: warm-up boot of {name}")
        boot_once(name, kw, sig, count_units=False)
    for run in range(RUNS):
        for name, kw, sig in INITS:
            ready, down, status, text, said = boot_once(name, kw, sig, count_units=True)
            words.setdefault(name, set()).update(said)
            rootfs.say(f"corpus bench: run {run + 1}/{RUNS} {name}: ready {ready:.2f} s, "
                       f"shutdown {down:.2f} s, {status}")
            results[name].append((ready, down, status))
            units.setdefault(name, []).append(parse_units(text))

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    systemd_version = subprocess.run(["chroot", rootfs.ROOT, "/lib/systemd/systemd", "--version"],
                                     capture_output=True, text=True).stdout.splitlines()[0]
    print("## Corpus root: boot to ready and shutdown (bosun against systemd 252)\n")
    print(f"Command: `make bench` (runs `tests/bench/corpus.py "
          f"{os.path.relpath(BOSUN)}`), {time.strftime('%Y-%m-%d', time.gmtime())}, "
          f"{os.cpu_count()} cores ({cpu}), kernel {platform.release()}, load average at start "
          f"{' '.join(load)} (the machine is shared; runs interleaved). The root: issue 19's corpus "
          f"(tests/fixtures/corpus: 38 packaged daemons and Debian's `systemd` package, "
          f"{systemd_version}), each boot over a fresh overlay of it, in fresh PID, mount, network "
          f"(loopback and an eth0) and cgroup namespaces with a delegated cgroup2 tree, a private "
          f"/dev, tmpfs /run and /tmp and `container=podman`, as podman gives a container "
          f"(tests/bench/rootfs.py). {RUNS} runs each after one warm-up boot; median (min–max).\n")
    print("- **ready**: exec of PID 1 → its `READY=1` on `NOTIFY_SOCKET` (a socket the script "
          "reads): systemd sends it when its boot has no job left (\"Startup finished\"), bosun "
          "when the boot's jobs have settled; for both, every unit the default target pulls in "
          "has started or failed.")
    print("- **shutdown**: the stop signal a container runtime sends (SIGTERM to bosun; "
          "SIGRTMIN+3 to systemd, podman's stop signal for systemd images, which halts it) → "
          "PID 1 has exited. bosun's default stop timeout is 5 s (`BOSUN_STOP_TIMEOUT`), "
          "systemd's 90 s (`DefaultTimeoutStopSec=`): the second bosun row uses systemd's.")
    print("- **units**: asked after READY=1 with the image's own `systemctl` inside the "
          "container (bosun's personality under bosun): `is-system-running`, "
          "`list-units --state=active` (all types, and services), `--state=failed`.\n")
    print("| PID 1 | ready | shutdown | PID 1 ended | is-system-running | active units (services) | failed units |")
    print("|---|---:|---:|---|---|---:|---|")
    for name, _, _ in INITS:
        rows = results[name]
        ended = sorted({r[2] for r in rows})
        states = sorted({u[0] for u in units[name]})
        active = sorted({f"{u[1]} ({u[2]})" for u in units[name]})
        failed = sorted({" ".join(u[3]) or "none" for u in units[name]})
        print(f"| {name} | {span([r[0] for r in rows])} | {span([r[1] for r in rows])} | "
              f"{', '.join(ended)} | {', '.join(states)} | {', '.join(active)} | "
              f"{'; '.join(failed)} |")
    print("\nWhat bosun said during its shutdowns about stops that timed out or a shutdown held "
          "(each line once, over all runs; systemd's console is not captured):\n")
    print("```")
    for name, _, _ in INITS:
        for text in sorted(words.get(name, ())):
            print(f"[{name}] {text}")
    print("```")
    b = statistics.median(r[0] for r in results["bosun"])
    s = statistics.median(r[0] for r in results["systemd 252"])
    bd = statistics.median(r[1] for r in results["bosun"])
    bd90 = statistics.median(r[1] for r in results["bosun, `BOSUN_STOP_TIMEOUT=90s`"])
    sd = statistics.median(r[1] for r in results["systemd 252"])
    print(f"\nMedians: ready, bosun {b:.2f} s against systemd's {s:.2f} s ({s / b:.2f}×); "
          f"shutdown, bosun {bd:.2f} s ({bd90:.2f} s with a 90 s stop timeout) against "
          f"systemd's {sd:.2f} s. Target: bosun faster on both.")


if __name__ == "__main__":
    main()
