#!/usr/bin/env python3
"""Station batches (docs/station.md), measured from outside on the real host (Release build):

1. command round trip master <-> worker: 10,000 GET_STATUS from a pyzmq master to a real worker
   (ZeroMQ both ways, the worker's command loop), and the same question through the host's API
   (HTTP + the plugin's master + the worker);
2. events from one worker to an SSE subscriber of the host: a sequence of 5,000 zero-length steps
   (10,001 events + the end), counted on /api/events; every STEP_COMPLETE must arrive once;
3. 8 batches running a 300-step sequence at once: host and worker RSS, CPU, step latency.

Targets (issue: station part 1): round trip p99 < 1 ms; >= 20,000 events/s with 0 lost.
Needs /usr/bin/python3 with pyzmq (apt-get install python3-zmq).
"""
import argparse, json, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time, http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from supervisors import HOST_DLL, free_port, wait  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "artifacts", "station-worker", "station-worker.dll")
DRIVERS = os.path.join(ROOT, "artifacts", "drivers")
CLK = os.sysconf("SC_CLK_TCK")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def package(folder, steps, wait_ms):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "sequence.yaml"), "w") as f:
        f.write("name: bench\nhardware: { dmm: {} }\nmain:\n")
        for i in range(steps):
            f.write(f"  - {{ name: s{i}, wait: {wait_ms}ms }}\n")
    return folder


def batch_yaml(name, pkg, heartbeat="1s"):
    return (f"apiVersion: pluginhost/v1\nkind: station-batch\nname: {name}\nspec:\n  sequence: {pkg}\n  drivers: {DRIVERS}\n"
            f"  worker: {os.path.dirname(WORKER)}\n  heartbeat: {heartbeat}\n  hardware:\n    dmm: {{ driver: sim-dmm, options: {{ seed: \"1\" }} }}\n")


def round_trip_pyzmq(n):
    import zmq
    work = tempfile.mkdtemp(prefix="station-rt-")
    port = free_port()
    config = os.path.join(work, "batch.json")
    with open(config, "w") as f:
        json.dump({"batch": "rt", "master": f"tcp://127.0.0.1:{port}", "package": package(os.path.join(work, "p"), 1, 0),
                   "drivers": DRIVERS, "hardware": {"dmm": {"driver": "sim-dmm"}}, "heartbeatMs": 1000}, f)
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.bind(f"tcp://127.0.0.1:{port}")
    worker = subprocess.Popen(["dotnet", WORKER, "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        identity = router.recv_multipart()[0]
        samples = []
        for i in range(n + 1000):
            t0 = time.perf_counter()
            router.send_multipart([identity, json.dumps({"v": 1, "type": "GET_STATUS", "batch": "rt", "id": str(i)}).encode()])
            while True:
                frames = router.recv_multipart()
                if b'"REPLY"' in frames[-1]:
                    break
            if i >= 1000:  # the first thousand warm the JIT
                samples.append((time.perf_counter() - t0) * 1e6)
        router.send_multipart([identity, json.dumps({"v": 1, "type": "SHUTDOWN", "batch": "rt", "id": "z"}).encode()])
        worker.wait(30)
        return {"n": n, "p50_us": statistics.median(samples), "p99_us": pct(samples, 99), "max_us": max(samples)}
    finally:
        if worker.poll() is None:
            worker.kill()
        router.close(0)
        context.term()
        shutil.rmtree(work, ignore_errors=True)


class Host:
    def __init__(self, units):
        self.work = tempfile.mkdtemp(prefix="station-bench-")
        m = os.path.join(self.work, "manifests")
        os.makedirs(m)
        with open(os.path.join(m, "host.yaml"), "w") as f:
            f.write(f"apiVersion: pluginhost/v1\nplugins: {{ directories: ['{ROOT}/artifacts/plugins'], watch: false }}\nmanifests: {{ watch: false }}\n")
        for name, yaml in units.items():
            with open(os.path.join(m, name + ".yaml"), "w") as f:
                f.write(yaml)
        self.port = free_port()
        self.proc = subprocess.Popen(["dotnet", "exec", HOST_DLL, "run", "--manifests", m, "--data", os.path.join(self.work, "data"),
                                      "--urls", f"http://127.0.0.1:{self.port}"], stdout=open(os.path.join(self.work, "host.out"), "w"), stderr=subprocess.STDOUT)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        wait(lambda: self.ready(list(units)), 90, 0.05)

    def request(self, method, path, body=None):
        for attempt in range(2):
            try:
                t0 = time.perf_counter()
                self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers={"Content-Type": "application/json"})
                response = self.conn.getresponse()
                data = response.read()
                return (time.perf_counter() - t0) * 1000, response.status, data
            except (OSError, http.client.HTTPException):
                self.conn.close()
                if attempt:
                    raise

    def ready(self, names):
        try:
            _, status, data = self.request("GET", "/api/units")
            units = {u["name"]: u for u in json.loads(data)}
            return status == 200 and all(units.get(n, {}).get("state") == "ready" for n in names)
        except OSError:
            return False

    def op(self, unit, op, body):
        _, status, data = self.request("POST", f"/api/units/{unit}/ops/{op}", body)
        assert status == 200, data[:400]
        return json.loads(data)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(120)
        shutil.rmtree(self.work, ignore_errors=True)


def round_trip_api(n):
    work = tempfile.mkdtemp(prefix="station-api-")
    host = Host({"rt": batch_yaml("rt", package(os.path.join(work, "p"), 1, 0))})
    try:
        for _ in range(300):
            host.op("rt", "status", {})
        samples = [host.request("POST", "/api/units/rt/ops/status", {})[0] for _ in range(n)]
        return {"n": n, "p50_ms": statistics.median(samples), "p99_ms": pct(samples, 99)}
    finally:
        host.stop()
        shutil.rmtree(work, ignore_errors=True)


class Sse:
    """One SSE client of /api/events (from ?since=ID when given): counts events by kind and the gaps the host reports."""

    def __init__(self, port, since=None, until_kind="station_sequence_complete"):
        self.counts, self.gaps, self.first, self.last, self.done = {}, 0, None, None, threading.Event()
        self.sock = socket.create_connection(("127.0.0.1", port))
        query = f"?since={since}" if since is not None else ""
        self.sock.sendall(f"GET /api/events{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        self.until = until_kind
        self.first_id = None
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        # Counted on the raw bytes of whole lines, not parsed per event: a client parsing JSON in
        # Python falls behind 20,000 events/s, and the host's bounded queue then reports a gap.
        kinds = [b"station_step_start", b"station_step_complete", b"station_log", b"station_sequence_complete"]
        buffer = b""
        while not self.done.is_set():
            try:
                data = self.sock.recv(1 << 20)
            except OSError:
                return
            if not data:
                return
            buffer += data
            cut = buffer.rfind(b"\n")
            if cut < 0:
                continue
            chunk, buffer = buffer[:cut + 1], buffer[cut + 1:]
            self.gaps += chunk.count(b"event: gap")
            for kind in kinds:
                n = chunk.count(b'"kind":"' + kind + b'"')
                if n:
                    name = kind.decode()
                    self.counts[name] = self.counts.get(name, 0) + n
                    self.first = self.first or time.perf_counter()
                    self.last = time.perf_counter()
            if self.first_id is None and b'"kind":"station_' in chunk:
                line = next(l for l in chunk.split(b"\n") if b'"kind":"station_' in l and l.startswith(b"data: "))
                self.first_id = json.loads(line[6:])["id"]
            if self.counts.get(self.until):
                self.done.set()

    def close(self):
        self.done.set()
        self.sock.close()


def events_to_sse(steps):
    work = tempfile.mkdtemp(prefix="station-ev-")
    host = Host({"ev": batch_yaml("ev", package(os.path.join(work, "p"), steps, 0))})
    try:
        live = Sse(host.port)
        time.sleep(0.5)
        host.op("ev", "startSequence", {})
        live.done.wait(300)
        live.close()
        events = sum(live.counts.values())
        # A client that missed events (gap) replays them from the journal: all must be there once.
        replay = Sse(host.port, since=live.first_id - 1)
        replay.done.wait(120)
        replay.close()
        return {"steps": steps, "events": events, "seconds": live.last - live.first, "events_per_s": events / (live.last - live.first),
                "gaps": live.gaps, "live_step_complete": live.counts.get("station_step_complete", 0),
                "replayed_step_complete": replay.counts.get("station_step_complete", 0)}
    finally:
        host.stop()
        shutil.rmtree(work, ignore_errors=True)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def eight_batches(batches, steps, wait_ms):
    work = tempfile.mkdtemp(prefix="station-8-")
    pkg = package(os.path.join(work, "p"), steps, wait_ms)
    host = Host({f"b{i}": batch_yaml(f"b{i}", pkg) for i in range(batches)})
    try:
        pids = {f"b{i}": json.loads(host.request("GET", f"/api/units/b{i}")[2])["pid"] for i in range(batches)}
        ticks0 = {p: cpu_ticks(p) for p in [host.proc.pid, *pids.values()]}
        t0 = time.perf_counter()
        executions = {u: host.op(u, "startSequence", {})["data"]["execution"] for u in pids}
        peak_host = peak_worker = 0

        def ended():
            nonlocal peak_host, peak_worker
            peak_host = max(peak_host, rss_kb(host.proc.pid))
            peak_worker = max(peak_worker, max(rss_kb(p) for p in pids.values()))
            return all(json.loads(host.request("POST", f"/api/units/{u}/ops/status", {})[2])["data"]["state"] == "idle" for u in pids)
        wait(ended, 600, 0.2)
        elapsed = time.perf_counter() - t0
        cpu = {p: (cpu_ticks(p) - t) / CLK for p, t in ticks0.items()}
        lat = []
        for u, e in executions.items():
            records = host.op(u, "execution", {"id": e})["data"]["records"]
            done = [r for r in records if r["type"] == "STEP_COMPLETE"]
            assert len(done) == steps, (u, len(done))
            lat += [r["body"]["durationMs"] - wait_ms for r in done]
        return {"batches": batches, "steps": steps, "wall_s": elapsed, "ideal_s": steps * wait_ms / 1000,
                "host_rss_mb": peak_host / 1024, "worker_rss_mb": peak_worker / 1024,
                "host_cpu_pct": 100 * cpu[host.proc.pid] / elapsed, "workers_cpu_pct": 100 * sum(v for p, v in cpu.items() if p != host.proc.pid) / elapsed,
                "step_overhead_p50_ms": statistics.median(lat), "step_overhead_p99_ms": pct(lat, 99)}
    finally:
        host.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--events-steps", type=int, default=5_000)
    parser.add_argument("--batches", type=int, default=8)
    args = parser.parse_args()
    rt = round_trip_pyzmq(args.commands)
    api = round_trip_api(2_000)
    ev = events_to_sse(args.events_steps)
    eight = eight_batches(args.batches, 300, 10)
    print("| measure | figure | goal |\n| --- | --- | --- |")
    print(f"| command round trip, pyzmq master <-> worker, {rt['n']:,} GET_STATUS | p50 {rt['p50_us']:.0f} µs, p99 {rt['p99_us']:.0f} µs, max {rt['max_us']:.0f} µs | p99 < 1 ms |")
    print(f"| the same through the host's API (HTTP + master + worker), {api['n']:,} | p50 {api['p50_ms']:.2f} ms, p99 {api['p99_ms']:.2f} ms | — |")
    print(f"| events, one worker -> an SSE subscriber, {ev['steps']:,} steps | {ev['events']:,} events live in {ev['seconds']:.2f} s = {ev['events_per_s']:,.0f}/s ({ev['gaps']} gaps, {ev['live_step_complete']:,} STEP_COMPLETE live); replayed from the journal: {ev['replayed_step_complete']:,} of {ev['steps']:,} | >= 20,000/s, 0 lost |")
    print(f"| {eight['batches']} batches x {eight['steps']} steps of 10 ms at once | {eight['wall_s']:.1f} s (ideal {eight['ideal_s']:.1f} s); host RSS {eight['host_rss_mb']:.0f} MB, worker RSS {eight['worker_rss_mb']:.0f} MB each (peak); "
          f"CPU host {eight['host_cpu_pct']:.0f} %, workers {eight['workers_cpu_pct']:.0f} % (of one core); step overhead p50 {eight['step_overhead_p50_ms']:.2f} ms, p99 {eight['step_overhead_p99_ms']:.2f} ms | — |")


if __name__ == "__main__":
    main()
