#!/usr/bin/env python3
"""PluginHost vs supervisord vs pm2 on this machine, side by side in one run.

Each system supervises the same programs with its restart-on-crash setting on; every figure is
measured from outside (processes found through /proc by a marker in their command line), so no
tool's own API latency is counted. Prints a markdown table with ratios.
"""
import argparse, json, shlex, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# PLUGINHOST_DLL measures another build of the host (e.g. a ReadyToRun publish) against the same plugins.
HOST_DLL = os.environ.get("PLUGINHOST_DLL") or os.path.join(ROOT, "host", "PluginHost", "bin", "Release", "net10.0", "pluginhost.dll")
PM2 = os.path.join(ROOT, "bench", "node_modules", ".bin", "pm2")
LINES, LINE_BYTES = 50_000, 201


def procs(marker):
    """PIDs of live processes whose command line contains the marker argument."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in argv and state != "Z":
            found.append(int(entry))
    return found


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, errors="replace") as f:
        return [l.rstrip("\n") for l in f]


def pss_kb(pid):
    """Proportional set size: shared pages (libc…) divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("Pss:"))
    except (OSError, StopIteration):
        return 0


def wait(cond, timeout=60, interval=0.001):
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        value = cond()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class System:
    def __init__(self, work):
        self.work = work
        os.makedirs(work, exist_ok=True)


class PluginHost(System):
    name = "PluginHost"

    def start(self, units):
        if not os.path.exists(HOST_DLL):
            sys.exit(f"no Release build of the host at {HOST_DLL}: build it first (dotnet build -c Release host/PluginHost), or run bench/run, which does")
        self.port = free_port()
        m = os.path.join(self.work, "manifests")
        os.makedirs(m, exist_ok=True)
        with open(os.path.join(m, "host.yaml"), "w") as f:
            f.write(f"apiVersion: pluginhost/v1\nplugins: {{ directories: ['{ROOT}/artifacts/plugins'], watch: false }}\nmanifests: {{ watch: false }}\n")
        for name, argv in units:
            with open(os.path.join(m, name + ".yaml"), "w") as f:
                f.write(f"apiVersion: pluginhost/v1\nkind: process\nname: {name}\n"
                        "restart: { policy: always, backoff: { initial: 0s }, minInterval: 0s, limit: { restarts: 1000, window: 1m } }\n"
                        f"spec: {{ command: {json.dumps(argv[0])}, args: {json.dumps(argv[1:])} }}\n")
        self.log = open(os.path.join(self.work, "host.out"), "w")
        self.proc = subprocess.Popen(["dotnet", "exec", HOST_DLL, "run", "--manifests", m, "--data", os.path.join(self.work, "data"),
                                      "--urls", f"http://127.0.0.1:{self.port}"], stdout=self.log, stderr=subprocess.STDOUT)

    def ready(self):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=1)
            return True
        except OSError:
            return False

    def stop_unit(self, name):
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{self.port}/api/units/{name}/stop", method="POST"), timeout=10)

    def daemon_pids(self):
        return [self.proc.pid]

    def extra_pids(self):
        return procs("infinity")  # output holders: `sleep infinity` named pluginhost-output-holder

    def log_path(self, name):
        return os.path.join(self.work, "data", "logs", name + ".log")

    def log_lines(self, name):
        # NAME.log.K (oldest) … NAME.log.1, NAME.log: the rotated files in order.
        base = os.path.join(self.work, "data", "logs", name + ".log")
        rotated = sorted((p for p in os.listdir(os.path.dirname(base)) if re.fullmatch(re.escape(name) + r"\.log\.\d+", p)), key=lambda p: -int(p.rsplit(".", 1)[1])) if os.path.isdir(os.path.dirname(base)) else []
        lines = []
        for path in [os.path.join(os.path.dirname(base), p) for p in rotated] + [base]:
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    lines += [l.rstrip("\n").split(" ", 2)[2] for l in f if l.count(" ") >= 2]
        return lines

    def shutdown(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(600)  # thousands of units (bench/scale.py) take more than a minute


class Supervisord(System):
    name = "supervisord"

    def start(self, units):
        self.conf = os.path.join(self.work, "supervisord.conf")
        sock = os.path.join(self.work, "s.sock")
        with open(self.conf, "w") as f:
            f.write(f"[unix_http_server]\nfile={sock}\n[supervisord]\nnodaemon=true\nlogfile={self.work}/supervisord.log\npidfile={self.work}/s.pid\n"
                    f"childlogdir={self.work}\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
                    f"[supervisorctl]\nserverurl=unix://{sock}\n")
            for name, argv in units:
                f.write(f"[program:{name}]\ncommand={shlex.join(argv).replace('%', '%%')}\nautorestart=true\nredirect_stderr=true\n"
                        f"stdout_logfile={self.work}/{name}.log\nstdout_logfile_maxbytes=0\n")
        self.proc = subprocess.Popen(["supervisord", "-c", self.conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready(self):
        return subprocess.run(["supervisorctl", "-c", self.conf, "pid"], capture_output=True).returncode == 0

    def stop_unit(self, name):
        subprocess.run(["supervisorctl", "-c", self.conf, "stop", name], capture_output=True, timeout=60)

    def daemon_pids(self):
        return [self.proc.pid]

    def extra_pids(self):
        return []

    def log_path(self, name):
        return os.path.join(self.work, name + ".log")

    def log_lines(self, name):
        return read_lines(self.log_path(name))

    def shutdown(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(600)  # once took over a minute to stop 100 sleeps (2026-12-04); it usually takes well under a second


class Pm2(System):
    name = "pm2"

    def env(self):
        return dict(os.environ, PM2_HOME=os.path.join(self.work, "pm2"))

    def start(self, units):
        apps = [{"name": n, "script": a[0], "args": a[1:], "interpreter": "none", "autorestart": True, "restart_delay": 0,
                 "out_file": f"{self.work}/{n}.log", "error_file": f"{self.work}/{n}.err.log"} for n, a in units]
        eco = os.path.join(self.work, "ecosystem.config.js")
        with open(eco, "w") as f:
            f.write("module.exports = " + json.dumps({"apps": apps}))
        subprocess.run([PM2, "ping"] if not units else [PM2, "start", eco], env=self.env(), capture_output=True, timeout=120)

    def ready(self):
        return os.path.exists(os.path.join(self.work, "pm2", "pm2.pid"))

    def stop_unit(self, name):
        subprocess.run([PM2, "stop", name], env=self.env(), capture_output=True, timeout=60)

    def daemon_pids(self):
        with open(os.path.join(self.work, "pm2", "pm2.pid")) as f:
            return [int(f.read().strip())]

    def extra_pids(self):
        return []

    def log_path(self, name):
        return os.path.join(self.work, name + ".log")

    def log_lines(self, name):
        return read_lines(self.log_path(name))

    def shutdown(self):
        subprocess.run([PM2, "kill"], env=self.env(), capture_output=True, timeout=60)


class Floor(System):
    """No supervisor at all: the least a supervisor can do, for the restart figure only — a Python
    loop blocked in waitpid(2) that posix_spawns the same command again the moment it ends."""
    name = "no supervisor"
    LOOP = ("import os, sys\n"
            "argv = sys.argv[1:]\n"
            "while True:\n"
            "    pid = os.posix_spawn(argv[0], argv, os.environ)\n"
            "    os.waitpid(pid, 0)\n")

    def start(self, units):
        (_, argv), = units
        self.proc = subprocess.Popen([sys.executable, "-c", self.LOOP, *argv], start_new_session=True)

    def ready(self):
        return True

    def shutdown(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def run(system_class, base, units, body):
    system = system_class(tempfile.mkdtemp(prefix=system_class.name + "-", dir=base))
    system.start(units)
    try:
        wait(system.ready, 60, 0.01)
        return body(system)
    finally:
        system.shutdown()


def restart_latency(cls, base, tag, samples):
    """kill -9 of the unit's process → the replacement process running.

    The unit stamps the wall clock as its first act (bash's $EPOCHREALTIME, no fork) and then execs
    the long-running program, so the figure is the supervisor's own reaction plus one bash start, the
    same for every system, and the harness's polling adds nothing to it (it only waits for the stamp)."""
    marker = f"100000.{tag}"
    stamps = os.path.join(base, f"stamps.{tag}")

    def body(s):
        latencies = []
        pid = wait(lambda: procs(marker), 60)[0]
        for _ in range(samples):
            time.sleep(2.1)  # every tool counts a process that lived over 1 s as started; supervisord checks on a 1 s tick
            seen = len(read_lines(stamps))
            t0 = time.time()
            os.kill(pid, signal.SIGKILL)
            wait(lambda: os.path.getsize(stamps) > 0 and len(read_lines(stamps)) > seen, 30, 0.002)
            latencies.append((float(read_lines(stamps)[seen]) - t0) * 1000)
            pid = wait(lambda: [p for p in procs(marker) if p != pid], 30)[0]
        return latencies
    return run(cls, base, [("crash", ["/bin/bash", "-c", f"echo $EPOCHREALTIME >> {stamps}; exec /bin/sleep {marker}"])], body)


def start_and_rss(cls, base, tag, n):
    marker = f"20000{tag}"
    units = [(f"u{i:03d}", ["/bin/sleep", f"{marker}.{i:03d}"]) for i in range(n)]
    t0 = time.perf_counter()

    def body(s):
        wait(lambda: count_prefix(marker + ".") >= n, 120, 0.005)
        elapsed = time.perf_counter() - t0
        time.sleep(3)
        return elapsed, sum(rss_kb(p) for p in s.daemon_pids()), sum(pss_kb(p) for p in s.extra_pids())
    return run(cls, base, units, body)


def count_prefix(prefix):
    """How many live processes have a first argument starting with the prefix."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if len(argv) > 1 and argv[1].startswith(prefix.encode()):
                count += 1
    return count


BURST_WRITER = r"""
import os, sys, time
stamp, mode, lines, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
pad = b"x" * 193
data = b"".join(b"%06d %s\n" % (i, pad) for i in range(1, lines + 1))
chunks = [data[i:i + 65536] for i in range(0, len(data), 65536)] if mode == "block" else data.splitlines(keepends=True)
while not os.path.exists(stamp + ".go"):  # the harness says when
    time.sleep(0.005)
with open(stamp, "w") as f:
    f.write(repr(time.time()))
for chunk in chunks:
    view = memoryview(chunk)
    while view:
        view = view[os.write(1, view):]
os.execv("/bin/sleep", ["/bin/sleep", marker])
"""


BURST_LAST = b"%06d " % LINES + b"x" * 193
BURST_LINE = re.compile(r"^(\d{6}) x{193}$")


def write_burst_writer(base):
    writer = os.path.join(base, "burst_writer.py")
    with open(writer, "w") as f:
        f.write(BURST_WRITER)
    return writer


def seconds_to_last_line(path, stamp):
    """The writer's stamp → the burst's last line in the file (its tail checked every 1 ms); None if it never came."""
    seen, end = -1, None
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            size = os.stat(path).st_size
        except OSError:
            size = -1
        if size != seen and size > 0:
            seen = size
            with open(path, "rb") as f:
                f.seek(max(0, size - 1024))
                if BURST_LAST + b"\n" in f.read():
                    end = time.time()
                    break
        time.sleep(0.001)
    with open(stamp) as f:
        began = float(f.read())
    return end - began if end else None


def log_burst(cls, base, tag, mode, bursts):
    """50,000 numbered lines of 201 bytes (10 MB) in one burst: 64 KiB writes ("block", lines cut across
    writes) or one write(2) per line ("line"). The writer stamps the wall clock just before its first
    write; the figure is that stamp → the last line in the log file (its tail checked every 1 ms), so
    neither the process start nor the harness's parsing is counted. Then every line is checked.

    One supervisor runs a unit per burst, each waiting for its go file. The supervisor is measured
    as it runs for days, not in its first seconds: it settles for 3 s after it is ready, and a first
    burst warms it (a .NET host compiles its hot code again, optimized, the first time it is hot;
    node does the same) and is checked but not timed. The median of the other `bursts` is reported."""
    writer = write_burst_writer(base)
    stamps = [os.path.join(base, f"burst-{mode}.{tag}.{n}") for n in range(bursts + 1)]

    def body(s):
        time.sleep(3)
        rates, lost, mangled = [], 0, 0
        for n, stamp in enumerate(stamps):
            with open(stamp + ".go", "w"):
                pass
            took = seconds_to_last_line(s.log_path(f"burst{n}"), stamp)
            time.sleep(0.3)
            lines = s.log_lines(f"burst{n}")
            good = [int(m.group(1)) for m in map(BURST_LINE.match, lines) if m]
            lost += LINES - len(set(good) & set(range(1, LINES + 1)))
            mangled += len(lines) - len(good)
            if n > 0:
                rates.append(LINES * LINE_BYTES / 1e6 / took if took else 0.0)
        return lost, mangled, statistics.median(rates)
    units = [(f"burst{n}", [sys.executable, writer, stamp, mode, str(LINES), f"400000.{tag}"]) for n, stamp in enumerate(stamps)]
    return run(cls, base, units, body)


def burst_floor(base, mode, bursts):
    """The same burst through a pipe into `cat > file`: what the pipe and the file cost with no
    supervisor at all (no lines cut, no timestamps), the ceiling every system is measured against."""
    writer = write_burst_writer(base)
    rates = []
    for n in range(bursts):
        stamp, path = os.path.join(base, f"floor-{mode}.{n}"), os.path.join(base, f"floor-{mode}.{n}.log")
        with open(path, "wb") as out:
            cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=out)
        writing = subprocess.Popen([sys.executable, writer, stamp, mode, str(LINES), "400000.floor"], stdout=cat.stdin)
        cat.stdin.close()
        time.sleep(0.3)  # the writer has built its data
        with open(stamp + ".go", "w"):
            pass
        try:
            took = seconds_to_last_line(path, stamp)
            rates.append(LINES * LINE_BYTES / 1e6 / took if took else 0.0)
        finally:
            writing.kill()
            writing.wait()
            cat.wait(10)
    return statistics.median(rates)


def orphans(cls, base, tag):
    marker = f"300000.{tag}"

    def body(s):
        wait(lambda: len(procs(marker)) == 2, 60)
        s.stop_unit("tree")
        time.sleep(2)
        left = procs(marker)
        for p in left:
            os.kill(p, signal.SIGKILL)
        return len(left)
    return run(cls, base, [("tree", ["/bin/bash", "-c", f"sleep {marker} & sleep {marker} & wait"])], body)


def versions():
    v = {}
    v["PluginHost"] = "main @ " + subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    v["supervisord"] = subprocess.run(["supervisord", "--version"], capture_output=True, text=True).stdout.strip()
    # Read, not asked: `pm2 --version` starts a God daemon that outlives the run, and a stray pm2
    # daemon made the next run's pm2 restarts ≈ 200 ms instead of ≈ 10 ms.
    with open(os.path.join(os.path.dirname(PM2), "..", "pm2", "package.json")) as f:
        v["pm2"] = json.load(f)["version"]
    return v


def stray_supervisors():
    """Supervisor daemons already running on the machine (pm2 God daemons, supervisord, pluginhost hosts)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (os.getpid(), os.getppid()):  # this harness (and a `timeout` around it) names supervisord in --systems
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
            if "God Daemon" in command or command.split(" ")[0].endswith("supervisord") or "supervisord -c" in command or "pluginhost.dll run" in command:
                found.append(f"  {entry}: {command[:120]}")
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--only", choices=["restart", "burst"], help="measure crash → restart latency only, or the output bursts only")
    parser.add_argument("--bursts", type=int, default=3, help="how many times each output burst is repeated (the median is reported)")
    parser.add_argument("--systems", default="PluginHost,supervisord,pm2", help="which systems, in which order")
    args = parser.parse_args()
    strays = stray_supervisors()
    if strays:
        # A pm2 daemon left by an earlier run made pm2's restarts ≈ 200 ms instead of ≈ 10 ms.
        sys.exit("other supervisors are running and would distort the figures; stop them first:\n" + "\n".join(strays))
    base = tempfile.mkdtemp(prefix="bench-")
    known = {cls.name: cls for cls in (PluginHost, Supervisord, Pm2)}
    systems = [known[name] for name in args.systems.split(",")]
    results = {}
    floor = restart_floor = None
    if args.only in (None, "restart"):
        lat = restart_latency(Floor, base, 0, args.samples)
        restart_floor = (statistics.median(lat), statistics.quantiles(lat, n=10)[-1])
        print(f"no supervisor (waitpid → posix_spawn): crash → restart median {restart_floor[0]:.1f} ms, p90 {restart_floor[1]:.1f} ms", flush=True)
    if args.only in (None, "burst"):
        floor = {mode: burst_floor(base, mode, args.bursts) for mode in ("block", "line")}
        print(f"no supervisor (writer | cat > file): burst 64 KiB writes {floor['block']:.1f} MB/s, per line {floor['line']:.1f} MB/s", flush=True)
    for tag, cls in enumerate(systems, start=1):
        print(f"== {cls.name}", file=sys.stderr)
        r = {}
        if args.only in (None, "restart"):
            lat = restart_latency(cls, base, tag, args.samples)
            r["restart_median"], r["restart_p90"] = statistics.median(lat), statistics.quantiles(lat, n=10)[-1]
        if args.only == "restart":
            print(f"{cls.name}: crash → restart median {r['restart_median']:.1f} ms, p90 {r['restart_p90']:.1f} ms", flush=True)
            continue
        if args.only is None:
            for n in (0, 10, args.units):
                elapsed, rss, extra = start_and_rss(cls, base, tag, n)
                r[f"rss_{n}"], r[f"extra_{n}"] = rss / 1024, extra / 1024
                if n == args.units:
                    r["start_all"] = elapsed
        if args.only in (None, "burst"):
            for mode in ("block", "line"):
                lost, mangled, r[f"mbps_{mode}"] = log_burst(cls, base, tag, mode, args.bursts)
                r["lost"], r["mangled"] = r.get("lost", 0) + lost, r.get("mangled", 0) + mangled
            if args.only == "burst":
                print(f"{cls.name}: burst 64 KiB writes {r['mbps_block']:.1f} MB/s, per line {r['mbps_line']:.1f} MB/s, lost {r['lost']}, split/merged {r['mangled']}", flush=True)
                continue
        r["orphans"] = orphans(cls, base, tag)
        results[cls.name] = r
        print(json.dumps(r), file=sys.stderr)
    shutil.rmtree(base, ignore_errors=True)
    if args.only:
        return
    print_table(results, versions(), args, floor, restart_floor)


def print_table(results, versions, args, floor, restart_floor):
    ph = results["PluginHost"]

    def ratio(key, other, lower_better=True):
        a, b = ph[key], results[other][key]
        if a == 0 or b == 0:
            return ""
        return f" ({b / a:.1f}×)" if lower_better else f" ({a / b:.1f}×)"

    rows = [
        ("crash → restart, median (ms)", "restart_median", "{:.1f}", True),
        ("crash → restart, p90 (ms)", "restart_p90", "{:.1f}", True),
        (f"start {args.units} units (s)", "start_all", "{:.2f}", True),
        ("supervisor RSS, 0 units (MB)", "rss_0", "{:.1f}", True),
        ("supervisor RSS, 10 units (MB)", "rss_10", "{:.1f}", True) if args.units != 10 else None,
        (f"supervisor RSS, {args.units} units (MB)", f"rss_{args.units}", "{:.1f}", True),
        (f"+ output holders, {args.units} units (PSS, MB)", f"extra_{args.units}", "{:.1f}", None),
        ("10 MB bursts: lines lost of 2 × 50,000", "lost", "{}", None),
        ("10 MB bursts: lines split/merged", "mangled", "{}", None),
        ("10 MB burst in 64 KiB writes: MB/s to the log file", "mbps_block", "{:.1f}", False),
        ("10 MB burst, one write(2) per line: MB/s to the log file", "mbps_line", "{:.1f}", False),
        ("stop with grandchildren: orphans left", "orphans", "{}", None),
    ]
    print(f"Date: {time.strftime('%Y-%m-%d')} · machine: {os.cpu_count()} cores · " + " · ".join(f"{k} {v}" for k, v in versions.items()))
    print()
    others = [name for name in ("supervisord", "pm2") if name in results]  # --systems may leave some out
    print("| " + " | ".join(["measure", "PluginHost"] + [f"{name} (ratio)" for name in others]) + " |")
    print("| --- | --- |" + " --- |" * len(others))
    for label, key, fmt, lower in filter(None, rows):
        cells = [fmt.format(ph[key])]
        for other in others:
            v = fmt.format(results[other][key])
            cells.append(v + (ratio(key, other, lower) if lower is not None else ""))
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    print("Ratios: how many times PluginHost is better (>1 = PluginHost better).")
    if restart_floor:
        print(f"No supervisor at all, a loop blocked in waitpid(2) that posix_spawns the unit again: crash → restart median {restart_floor[0]:.1f} ms, "
              f"p90 {restart_floor[1]:.1f} ms (the same kill, the same bash stamp).")
    if floor:
        print(f"No supervisor at all, the same bursts through a pipe into `cat > file`: {floor['block']:.1f} MB/s in 64 KiB writes, "
              f"{floor['line']:.1f} MB/s one write(2) per line (medians of {args.bursts}).")


if __name__ == "__main__":
    main()
