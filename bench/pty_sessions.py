#!/usr/bin/env python3
"""The pty stability spike's four experiments (seed 003), against PluginHost's pty-session units,
each printed with the seed's bar and ours:

  1. a long session with steady output        → host memory growth, MB/h   (seed < 100, ours < 10)
  2. 30 concurrent sessions, each a command   → success rate               (seed > 90 %, ours 100 %)
  3. a 50,000-line / ~10 MB burst             → loss rate and MB/s          (seed < 1 %, ours 0), next
                                                 to Python's pty module (and node-pty when it installs)
  4. 100 kill -9 cycles                       → recovery rate, median time (seed 100 %)

Usage: python3 bench/pty_sessions.py [--minutes 10] [--cycles 100] [--only 1,2,3,4]
(bench/run builds the host in Release first; run that once, or `dotnet build -c Release host/PluginHost`).
"""
import argparse, base64, hashlib, json, os, pty, socket, statistics, struct, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from supervisors import HOST_DLL, ROOT, free_port, rss_kb, wait  # noqa: E402

BURST = "read go; awk 'BEGIN { pad = sprintf(\"%0190d\", 0); for (i = 1; i <= 50000; i++) printf \"%05d %s\\n\", i, pad }'; echo BURST-DONE; sleep 300"


class Host:
    def __init__(self, units):
        self.work = tempfile.mkdtemp(prefix="pty-bench-")
        m = os.path.join(self.work, "manifests")
        os.makedirs(m)
        with open(os.path.join(m, "host.yaml"), "w") as f:
            f.write(f"apiVersion: pluginhost/v1\nplugins: {{ directories: ['{ROOT}/artifacts/plugins'], watch: false }}\nmanifests: {{ watch: false }}\n")
        for name, script, extra in units:
            with open(os.path.join(m, name + ".yaml"), "w") as f:
                f.write(f"apiVersion: pluginhost/v1\nkind: pty-session\nname: {name}\n{extra}\n"
                        f"spec: {{ command: /bin/bash, args: {json.dumps(['-c', script])}, poolLimit: 100 }}\n")
        self.port = free_port()
        self.log = open(os.path.join(self.work, "host.out"), "w")
        self.proc = subprocess.Popen(["dotnet", "exec", HOST_DLL, "run", "--manifests", m, "--data", os.path.join(self.work, "data"),
                                      "--urls", f"http://127.0.0.1:{self.port}"], stdout=self.log, stderr=subprocess.STDOUT)
        wait(lambda: self.units_ready([u[0] for u in units]), 120, 0.05)

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return json.loads(r.read())

    def unit(self, name):
        return self.get(f"/api/units/{name}")

    def units_ready(self, names):
        try:
            states = {u["name"]: u["state"] for u in self.get("/api/units")}
            return all(states.get(n) == "ready" for n in names)
        except OSError:
            return False

    def close(self):
        self.proc.terminate()
        self.proc.wait(60)


class WebSocket:
    """Just enough of RFC 6455 for a client: handshake, masked binary frames out, frames in."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.buffer = bytearray()
        self.offset = 0

    def _read(self, n):
        # A bytearray consumed from an offset: slicing the rest off after every frame would copy
        # the whole receive buffer per message (seconds for a 10 MB burst).
        while len(self.buffer) - self.offset < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError
            del self.buffer[:self.offset]
            self.offset = 0
            self.buffer += chunk
        data = bytes(self.buffer[self.offset:self.offset + n])
        self.offset += n
        return data

    def recv(self):
        """The next message's payload; None when the server closes."""
        b1, b2 = self._read(2)
        length = b2 & 0x7F
        if length == 126:
            length = struct.unpack(">H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self._read(8))[0]
        payload = self._read(length)
        return None if b1 & 0x0F == 8 else payload

    def send(self, data, opcode=2):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        header += bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) + struct.pack(">H", len(data))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def close(self):
        self.sock.close()


def count_burst(data):
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    numbers = [int(l[:5]) for l in lines if len(l) == 196 and l[:5].isdigit()]
    return numbers


def experiment_memory(minutes):
    host = Host([("steady", "i=0; while true; do i=$((i+1)); echo \"steady line $i $(printf %080d 0)\"; sleep 0.01; done", "")])
    try:
        ws = WebSocket(host.port, "/api/units/steady/pty")
        received = [0]
        import threading
        stop = threading.Event()

        def drain():
            while not stop.is_set():
                m = ws.recv()
                if m is None:
                    return
                received[0] += len(m)
        threading.Thread(target=drain, daemon=True).start()
        time.sleep(min(120, minutes * 60 / 4))  # warm-up: JIT, and the GC sizing its heap to the allocation rate
        samples = []
        end = time.time() + minutes * 60
        while time.time() < end:
            samples.append((time.time(), rss_kb(host.proc.pid) / 1024))
            time.sleep(5)
        stop.set()
        ws.close()
        xs = [t - samples[0][0] for t, _ in samples]
        ys = [r for _, r in samples]
        slope = statistics.linear_regression(xs, ys).slope if len(samples) > 2 else 0.0
        # The GC's budgets make RSS a sawtooth (collections every few minutes), so the range is reported
        # with the slope: a short run can catch a rising edge, a leak shows as a rising floor.
        return {"minutes": minutes, "rss_start_mb": ys[0], "rss_end_mb": ys[-1], "rss_min_mb": min(ys), "rss_max_mb": max(ys),
                "growth_mb_per_h": slope * 3600, "bytes_streamed": received[0]}
    finally:
        host.close()


def experiment_concurrent(n=30):
    host = Host([(f"c{i:02d}", f"echo \"session-{i} $(tty)\"; sleep 300", "") for i in range(n)])
    try:
        ok = 0
        for i in range(n):
            ws = WebSocket(host.port, f"/api/units/c{i:02d}/pty")
            data = b""
            deadline = time.time() + 10
            while f"session-{i} /dev/pts/".encode() not in data and time.time() < deadline:
                m = ws.recv()
                if m is None:
                    break
                data += m
            ws.close()
            ok += f"session-{i} /dev/pts/".encode() in data
        return {"sessions": n, "succeeded": ok, "success_rate": 100.0 * ok / n}
    finally:
        host.close()


def experiment_burst():
    host = Host([("burst", BURST, "")])
    try:
        ws = WebSocket(host.port, "/api/units/burst/pty")
        chunks, tail = [], b""
        t0 = time.perf_counter()
        ws.send(b"go\r")
        while b"BURST-DONE" not in tail:
            m = ws.recv()
            if m is None:
                break
            chunks.append(m)
            tail = (tail + m)[-64:]
        data = b"".join(chunks)
        elapsed = time.perf_counter() - t0
        ws.close()
        numbers = count_burst(data)
        lost = 50000 - len(set(numbers))
        in_order = numbers == sorted(numbers)
        return {"lines": len(numbers), "lost": lost, "loss_rate": 100.0 * lost / 50000, "in_order": in_order, "mb_per_s": len(data) / elapsed / 1e6}
    finally:
        host.close()


def python_pty_burst():
    """The same burst through Python's pty module: fork on a pty, read the master until EOF."""
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv("/bin/bash", ["bash", "-c", BURST.replace("read go; ", "").replace("; sleep 300", "")])
    data = bytearray()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    os.waitpid(pid, 0)
    elapsed = time.perf_counter() - t0
    numbers = count_burst(bytes(data))
    return {"lines": len(numbers), "lost": 50000 - len(set(numbers)), "mb_per_s": len(data) / elapsed / 1e6}


def node_pty_burst():
    here = os.path.dirname(os.path.abspath(__file__))
    if not os.path.isdir(os.path.join(here, "node_modules", "node-pty")):
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "node-pty"], cwd=here, capture_output=True, text=True)
        if r.returncode != 0:
            return {"error": "node-pty did not install: " + (r.stderr.strip().splitlines() or ["?"])[-1][:160]}
    script = ("const pty=require('node-pty');const t0=process.hrtime.bigint();let n=0,buf=[];"
              f"const p=pty.spawn('/bin/bash',['-c',{json.dumps(BURST.replace('read go; ', '').replace('; sleep 300', ''))}],{{cols:120,rows:40}});"
              "p.onData(d=>{n+=Buffer.byteLength(d);buf.push(d)});"
              "p.onExit(()=>{const s=Number(process.hrtime.bigint()-t0)/1e9;const t=buf.join('').split('\\r\\n').filter(l=>/^\\d{5} 0{190}$/.test(l));"
              "console.log(JSON.stringify({lines:t.length,lost:50000-new Set(t.map(l=>l.slice(0,5))).size,mb_per_s:n/s/1e6}))});")
    r = subprocess.run(["node", "-e", script], cwd=here, capture_output=True, text=True, timeout=120)
    return json.loads(r.stdout) if r.returncode == 0 else {"error": r.stderr.strip()[-160:]}


def experiment_recovery(cycles):
    host = Host([("victim", "exec cat", "restart: { policy: always, backoff: { initial: 0s }, minInterval: 0s, limit: { restarts: 1000, window: 1m } }")])
    try:
        times, recovered = [], 0
        for _ in range(cycles):
            old = host.unit("victim")["pid"]
            t0 = time.perf_counter()
            os.kill(old, 9)
            try:
                wait(lambda: (u := host.unit("victim"))["state"] == "ready" and u["pid"] not in (None, old), 10, 0.001)
                times.append((time.perf_counter() - t0) * 1000)
                recovered += 1
            except TimeoutError:
                pass
        return {"cycles": cycles, "recovered": recovered, "recovery_rate": 100.0 * recovered / cycles,
                "median_ms": statistics.median(times) if times else None, "p90_ms": statistics.quantiles(times, n=10)[-1] if len(times) > 9 else None}
    finally:
        host.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--only", default="1,2,3,4")
    args = parser.parse_args()
    only = set(args.only.split(","))
    rows = []
    if "1" in only:
        r = experiment_memory(args.minutes)
        print(json.dumps(r), file=sys.stderr)
        rows.append((f"1. long session ({args.minutes:g} min, ~100 lines/s, a viewer attached): host memory growth", "< 100 MB/h", "< 10 MB/h",
                     f"{r['growth_mb_per_h']:.1f} MB/h (RSS {r['rss_start_mb']:.1f} → {r['rss_end_mb']:.1f} MB, range {r['rss_min_mb']:.1f}–{r['rss_max_mb']:.1f})"))
    if "2" in only:
        r = experiment_concurrent()
        print(json.dumps(r), file=sys.stderr)
        rows.append(("2. 30 concurrent sessions, each a command: success rate", "> 90 %", "100 %", f"{r['success_rate']:.0f} % ({r['succeeded']}/{r['sessions']})"))
    if "3" in only:
        r, py, node = experiment_burst(), python_pty_burst(), node_pty_burst()
        print(json.dumps({"pluginhost": r, "python_pty": py, "node_pty": node}), file=sys.stderr)
        rows.append(("3. 50,000-line / ~10 MB burst over the WebSocket: loss rate", "< 1 %", "0 %", f"{r['loss_rate']:.2f} % ({r['lost']} lost, in order: {r['in_order']})"))
        rows.append(("3. … throughput to the viewer", "", "", f"{r['mb_per_s']:.1f} MB/s (Python pty: {py['mb_per_s']:.1f} MB/s, {py['lost']} lost; node-pty: "
                     + (f"{node['mb_per_s']:.1f} MB/s, {node['lost']} lost)" if "mb_per_s" in node else f"{node['error']})")))
    if "4" in only:
        r = experiment_recovery(args.cycles)
        print(json.dumps(r), file=sys.stderr)
        rows.append((f"4. {args.cycles} kill -9 cycles: recovery rate, time to a new ready session", "100 %", "100 %",
                     f"{r['recovery_rate']:.0f} %, median {r['median_ms']:.1f} ms, p90 {r['p90_ms']:.1f} ms"))
    print(f"Date: {time.strftime('%Y-%m-%d')} · {os.cpu_count()} cores")
    print()
    print("| experiment | seed's bar | our bar | measured |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
