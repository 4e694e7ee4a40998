#!/usr/bin/env python3
"""Many idle units: PluginHost at 1,000 and 5,000, side by side with supervisord and pm2 at 1,000.

For each system and size: the time from the supervisor's start until every unit's process runs
(found through /proc by a marker, as supervisors.py does) and until the supervisor itself reports
them all running; its RSS once settled and the cost per unit over an empty supervisor; its CPU while
every unit idles (10 s); and the latency of its status API (one unit, and the whole list), p50/p99; the time to stop it with every unit.
"""
import argparse, http.client, json, os, random, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request, xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from supervisors import PM2, PluginHost, Pm2, Supervisord, count_prefix, pss_kb, rss_kb, stray_supervisors, wait  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self._path)


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self._path = path

    def make_connection(self, host):
        return _UnixConnection(self._path)


def supervisord_rpc(s):
    return xmlrpc.client.ServerProxy("http://localhost", transport=_UnixTransport(os.path.join(s.work, "s.sock")))


def reported_running(s):
    """How many units the supervisor itself says are running."""
    if isinstance(s, PluginHost):
        with urllib.request.urlopen(f"http://127.0.0.1:{s.port}/api/units", timeout=30) as r:
            return sum(1 for u in json.load(r) if u["state"] == "ready")  # a process unit with no probe is ready once it runs
    if isinstance(s, Supervisord):
        return sum(1 for p in supervisord_rpc(s).supervisor.getAllProcessInfo() if p["statename"] == "RUNNING")
    out = subprocess.run([PM2, "jlist"], env=s.env(), capture_output=True, text=True, timeout=120).stdout
    return sum(1 for p in json.loads(out[out.index("["):]) if p["pm2_env"]["status"] == "online")


def api_latencies(s, names, requests):
    """Milliseconds per status request: one unit (random), and the whole list. None where the system has no such API."""
    one, every = [], []
    if isinstance(s, PluginHost):
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)

        def get(path):
            t = time.perf_counter()
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            assert r.status == 200, (path, r.status)
            return (time.perf_counter() - t) * 1000
        for _ in range(requests):
            one.append(get(f"/api/units/{random.choice(names)}"))
        for _ in range(max(20, requests // 50)):
            every.append(get("/api/units"))
        conn.close()
    elif isinstance(s, Supervisord):
        rpc = supervisord_rpc(s)
        for _ in range(requests):
            t = time.perf_counter()
            rpc.supervisor.getProcessInfo(random.choice(names))
            one.append((time.perf_counter() - t) * 1000)
        for _ in range(max(20, requests // 50)):
            t = time.perf_counter()
            rpc.supervisor.getAllProcessInfo()
            every.append((time.perf_counter() - t) * 1000)
    else:
        return None, None  # pm2 answers through its CLI, which starts node for every call

    def p(values):
        q = statistics.quantiles(values, n=100)
        return statistics.median(values), q[98]
    return p(one), p(every)


def measure(cls, base, tag, n, requests):
    marker = f"50000{tag}"
    units = [(f"u{i:04d}", ["/bin/sleep", f"{marker}.{i:04d}"]) for i in range(n)]
    system = cls(tempfile.mkdtemp(prefix=f"{cls.name}-{n}-", dir=base))
    t0 = time.perf_counter()
    system.start(units)
    r = {}
    try:
        wait(system.ready, 300, 0.01)
        if n:
            # A look through /proc at thousands of processes takes tens of ms: every 0.2 s, so that the
            # harness does not take a core from the system it measures (± 0.2 s on these figures).
            wait(lambda: count_prefix(marker + ".") >= n, 600, 0.2)
            r["pids"] = time.perf_counter() - t0
            wait(lambda: reported_running(system) >= n, 600, 0.2)
            r["reported"] = time.perf_counter() - t0
        time.sleep(20)  # settled: the first minutes' compilation and collections are not what idling costs
        pids = system.daemon_pids()
        r["rss"] = sum(rss_kb(p) for p in pids) / 1024
        r["extra"] = sum(pss_kb(p) for p in system.extra_pids()) / 1024
        before = sum(cpu_seconds(p) for p in pids)
        time.sleep(10)
        r["idle_cpu"] = (sum(cpu_seconds(p) for p in pids) - before) / 10 * 100
        if n:
            r["api_one"], r["api_all"] = api_latencies(system, [u[0] for u in units], requests)
    finally:
        stopping = time.perf_counter()
        system.shutdown()
        wait(lambda: count_prefix(marker + ".") == 0, 600, 0.2)  # every unit gone before the next system starts
        r["stop"] = time.perf_counter() - stopping
    return r


def descriptor_budget(units):
    """PluginHost holds 3 descriptors per quiet unit (two pipes, a pidfd; the log file only while the unit
    writes): 5,000 units need ≈ 16,000. The limit is raised for this run if the user may; the units that fit are returned."""
    import resource
    wanted = units * 3 + 1100  # + the host's own and the 64 it keeps (DescriptorReserve)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
            soft = wanted
        except (ValueError, OSError):
            soft = max(soft, min(hard, wanted))
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    fit = (soft - 1100) // 3
    if fit < units:
        print(f"note: open files are limited to {soft} here (raising it needs CAP_SYS_RESOURCE): {units} units need ≈ {wanted}; measuring {fit}", file=sys.stderr)
    return min(units, fit)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000", help="unit counts for PluginHost; the others run the first only")
    parser.add_argument("--systems", default="PluginHost,supervisord,pm2")
    parser.add_argument("--requests", type=int, default=1000, help="status requests per API latency figure")
    args = parser.parse_args()
    strays = stray_supervisors()
    if strays:
        sys.exit("other supervisors are running and would distort the figures; stop them first:\n" + "\n".join(strays))
    sizes = [descriptor_budget(int(x)) for x in args.sizes.split(",")]
    known = {cls.name: cls for cls in (PluginHost, Supervisord, Pm2)}
    base = tempfile.mkdtemp(prefix="bench-scale-")
    results = {}
    try:
        for tag, name in enumerate(args.systems.split(","), start=1):
            cls = known[name]
            empty = measure(cls, base, tag, 0, args.requests)
            for n in sizes if cls is PluginHost else sizes[:1]:
                print(f"== {name}, {n} units", file=sys.stderr, flush=True)
                r = measure(cls, base, tag, n, args.requests)
                r["per_unit_kb"] = (r["rss"] - empty["rss"]) * 1024 / n
                results[(name, n)] = r
                print(f"{name} {n}: " + json.dumps(r), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print_table(results)


def print_table(results):
    def ms(pair):
        return "—" if pair is None else f"{pair[0]:.1f} / {pair[1]:.1f}"
    print("| system, units | all running (PIDs), s | the system says all running, s | RSS, MB | per unit, KB | + output holders (PSS), MB | idle CPU, % of a core | status of one unit p50 / p99, ms | list of all p50 / p99, ms | stop all, s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (name, n), r in results.items():
        print(f"| {name}, {n:,} | {r['pids']:.2f} | {r['reported']:.2f} | {r['rss']:.1f} | {r['per_unit_kb']:.0f} | {r['extra']:.1f} | {r['idle_cpu']:.2f} | {ms(r['api_one'])} | {ms(r['api_all'])} | {r['stop']:.1f} |")


if __name__ == "__main__":
    main()
