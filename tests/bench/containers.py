#!/usr/bin/python3
"""Container benchmark: bosun as a podman container's ENTRYPOINT against tini, tini-static,
dumb-init and catatonit, in one run, in the same busybox image.

Usage: tests/bench/containers.py BOSUN_STATIC_BINARY > section.md
Prints a Markdown section. podman runs with runc and cgroupfs (the configuration the container
tests use) and its own storage under target/bench. Every figure comes from this run; nothing
is pass/fail here.
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

BOSUN = os.path.realpath(sys.argv[1])
RUNS = 15
HOME = os.path.realpath("target/bench/podman")
INITS = [
    ("bosun", "/sbin/bosun", ["--"]),
    ("bosun, booting 3 units", "/sbin/bosun", []),
    ("tini", "/usr/bin/tini", ["--"]),
    ("tini-static", "/usr/bin/tini-static", ["--"]),
    ("dumb-init", "/usr/bin/dumb-init", ["--"]),
    ("catatonit", "/usr/bin/catatonit", ["--"]),
]
IMAGE = "localhost/bosun-bench/inits:latest"


def podman(*args, check=True):
    env = dict(os.environ, CONTAINERS_CONF=f"{HOME}/containers.conf",
               CONTAINERS_STORAGE_CONF=f"{HOME}/storage.conf")
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.run(["podman", *args], env=env, check=check, capture_output=True, text=True)


def copy_with_libraries(binary, root):
    """Copy `binary` into the image at the same path, with the shared libraries it needs."""
    dest = root + binary
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copy2(binary, dest)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for line in ldd.splitlines():
        parts = line.split()
        lib = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if lib.startswith("/"):
            os.makedirs(os.path.dirname(root + lib), exist_ok=True)
            shutil.copy2(lib, root + lib)


def build_image():
    os.makedirs(HOME, exist_ok=True)
    with open(f"{HOME}/containers.conf", "w") as f:
        f.write('[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n')
    with open(f"{HOME}/storage.conf", "w") as f:
        f.write(f'[storage]\ndriver = "overlay"\ngraphroot = "{HOME}/storage"\n'
                f'runroot = "{HOME}/run"\n[storage.options.overlay]\nskip_mount_home = "true"\n')
    root = tempfile.mkdtemp(prefix="bosun-bench-image-")
    os.makedirs(root + "/bin")
    shutil.copy2("/bin/busybox", root + "/bin/busybox")
    for tool in ["sh", "sleep", "cat"]:
        os.symlink("busybox", f"{root}/bin/{tool}")
    os.makedirs(root + "/sbin")
    shutil.copy2(BOSUN, root + "/sbin/bosun")
    for _, path, _ in INITS[2:]:
        if os.path.exists(path):
            copy_with_libraries(path, root)
    # Three services for the unit-booting case: the job of a small multi-daemon image.
    units = root + "/etc/systemd/system"
    os.makedirs(units + "/multi-user.target.wants")
    for n in range(3):
        with open(f"{units}/svc{n}.service", "w") as f:
            f.write(f"[Service]\nExecStart=/bin/sleep 100{n}\n[Install]\nWantedBy=multi-user.target\n")
        os.symlink(f"../svc{n}.service", f"{units}/multi-user.target.wants/svc{n}.service")
    tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
    env = dict(os.environ, CONTAINERS_CONF=f"{HOME}/containers.conf",
               CONTAINERS_STORAGE_CONF=f"{HOME}/storage.conf")
    subprocess.run(["podman", "import", "-q", "-", IMAGE], stdin=tar.stdout, env=env, check=True,
                   capture_output=True)
    tar.wait()
    shutil.rmtree(root)


def ms(seconds):
    return f"{seconds * 1000:.0f}"


def measure(name, path, pre):
    starts, stops, codes = [], [], set()
    for i in range(RUNS):
        cname = f"bosun-bench-{i}"
        podman("rm", "-f", "--ignore", "-t", "0", cname, check=False)
        cmd = [path, *pre, "sleep", "1000"] if pre else [path]
        t0 = time.monotonic()
        podman("run", "-d", "--name", cname, IMAGE, *cmd)
        starts.append(time.monotonic() - t0)
        if not pre:
            # Booting units: stop once they run, as an operator would.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if podman("exec", cname, "/sbin/bosun", "ctl", "is-ready", check=False).returncode == 0:
                    break
                time.sleep(0.01)
        else:
            time.sleep(0.2)
        t0 = time.monotonic()
        podman("stop", "-t", "10", cname)
        stops.append(time.monotonic() - t0)
        codes.add(podman("inspect", "--format", "{{.State.ExitCode}}", cname).stdout.strip())
        podman("rm", "-f", "-t", "0", cname, check=False)
    q = lambda xs: (statistics.median(xs), sorted(xs)[int(len(xs) * 0.9) - 1])
    (s50, s90), (t50, t90) = q(starts), q(stops)
    return f"| {name} | {ms(s50)} / {ms(s90)} ms | {ms(t50)} / {ms(t90)} ms | {', '.join(sorted(codes))} |"


def main():
    build_image()
    version = podman("--version").stdout.strip()
    print("## In a container (`podman run` and `podman stop` of the same busybox image, per init)\n")
    print(f"Command: `make bench` (runs `tests/bench/containers.py {sys.argv[1]}`), "
          f"{time.strftime('%Y-%m-%d')}, {version}, runc, cgroupfs.\n")
    print("Each init is the ENTRYPOINT of one busybox image, its main command `sleep 1000` (which "
          "dies of SIGTERM); *bosun, booting 3 units* runs no main command but three "
          f"`sleep` services from unit files and is stopped once `initctl is-ready` says so. "
          f"{RUNS} runs each, median / p90. **run**: `podman run -d` until it returns; "
          "**stop**: `podman stop -t 10` (SIGTERM to PID 1, SIGKILL after 10 s) until it "
          "returns; **exit**: the container's exit codes seen (143 = killed by SIGTERM, as the "
          "main command was; 0 = bosun stopped its units in order).\n")
    print("| init | run (median / p90) | stop (median / p90) | exit |")
    print("|---|---:|---:|:---:|")
    for name, path, pre in INITS:
        if not os.path.exists(path) and not path.startswith("/sbin/bosun"):
            print(f"| {name} | not installed | | |")
            continue
        print(measure(name, path, pre), flush=True)
    podman("rmi", "-f", IMAGE, check=False)


main()
