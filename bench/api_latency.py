#!/usr/bin/env python3
"""Control-surface latency: status round trip and start/stop/restart acknowledgement while 100
SSE subscribers follow the event stream (every control request makes events fan out to all of
them). Side by side with supervisord's XML-RPC API (getProcessInfo / stop / start) and pm2's
programmatic API (describe / restart) on the same machine.

Targets (issue: control surfaces): status p99 < 10 ms; control acknowledgement p99 < 20 ms.
"""
import argparse, json, os, socket, statistics, subprocess, sys, tempfile, threading, time, http.client, xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from supervisors import HOST_DLL, PM2, free_port, wait  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(values):
    return {"n": len(values), "p50": statistics.median(values), "p99": pct(values, 99), "max": max(values)}


class Subscribers:
    """N raw SSE connections, each drained by its own thread (they read, so they are not 'slow')."""

    def __init__(self, port, n):
        self.events = 0
        self.lock = threading.Lock()
        self.sockets = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            self.sockets.append(s)
            threading.Thread(target=self.drain, args=(s,), daemon=True).start()

    def drain(self, s):
        try:
            while data := s.recv(65536):
                with self.lock:
                    self.events += data.count(b"\ndata: ")
        except OSError:
            pass

    def close(self):
        for s in self.sockets:
            s.close()


def start_host(prefix, manifests):
    """A PluginHost (Release) on a free port with the repository's plugins and these unit manifests {name: yaml}."""
    work = tempfile.mkdtemp(prefix=prefix)
    m = os.path.join(work, "manifests")
    os.makedirs(m)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(m, "host.yaml"), "w") as f:
        f.write(f"apiVersion: pluginhost/v1\nplugins: {{ directories: ['{root}/artifacts/plugins'], watch: false }}\nmanifests: {{ watch: false }}\n")
    for name, yaml in manifests.items():
        with open(os.path.join(m, name + ".yaml"), "w") as f:
            f.write(yaml)
    port = free_port()
    log = open(os.path.join(work, "host.out"), "w")
    proc = subprocess.Popen(["dotnet", "exec", HOST_DLL, "run", "--manifests", m, "--data", os.path.join(work, "data"),
                             "--urls", f"http://127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    return proc, port


def pluginhost(samples, subscribers, units):
    proc, port = start_host("api-latency-", {f"u{i:02d}": f"apiVersion: pluginhost/v1\nkind: process\nname: u{i:02d}\nspec: {{ command: /bin/sleep, args: ['3000{i:02d}'] }}\n"
                                             for i in range(units)})
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

        def request(method, path):
            t0 = time.perf_counter()
            conn.request(method, path)
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status == 200, (response.status, body[:300])
            return elapsed, body

        def ready():
            try:
                return all(u["state"] == "ready" for u in json.loads(request("GET", "/api/units")[1]))
            except (OSError, http.client.HTTPException):
                conn.close()
                return False
        wait(ready, 60, 0.05)
        subs = Subscribers(port, subscribers)
        wait(lambda: json.loads(request("GET", "/api/health")[1]) and b"pluginhost_sse_clients " + str(subscribers).encode() in request("GET", "/metrics")[1], 30, 0.05)
        for _ in range(200):  # warm-up: JIT and connection
            request("GET", "/api/units/u00")
        status = [request("GET", f"/api/units/u{i % units:02d}")[0] for i in range(samples)]
        control = []
        for i in range(samples // 4):
            name = f"u{i % units:02d}"
            for verb in ("restart", "stop", "start"):
                control.append(request("POST", f"/api/units/{name}/{verb}")[0])
            wait(lambda: json.loads(request("GET", f"/api/units/{name}")[1])["state"] == "ready", 30, 0.002)
        time.sleep(0.5)
        delivered = subs.events
        subs.close()
        return {"status": summary(status), "control": summary(control), "events_delivered": delivered}
    finally:
        proc.terminate()
        proc.wait(60)


def supervisord(samples, units):
    work = tempfile.mkdtemp(prefix="api-latency-sd-")
    port = free_port()
    conf = os.path.join(work, "supervisord.conf")
    with open(conf, "w") as f:
        f.write(f"[inet_http_server]\nport=127.0.0.1:{port}\n[supervisord]\nnodaemon=true\nlogfile={work}/s.log\npidfile={work}/s.pid\n"
                f"childlogdir={work}\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n")
        for i in range(units):
            f.write(f"[program:u{i:02d}]\ncommand=/bin/sleep 3001{i:02d}\nstartsecs=0\nstdout_logfile={work}/u{i:02d}.log\n")
    proc = subprocess.Popen(["supervisord", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/RPC2")

        def ready():
            try:
                return all(p["statename"] == "RUNNING" for p in server.supervisor.getAllProcessInfo())
            except OSError:
                return False
        wait(ready, 60, 0.05)

        def timed(call):
            t0 = time.perf_counter()
            call()
            return (time.perf_counter() - t0) * 1000
        for _ in range(200):
            server.supervisor.getProcessInfo("u00")
        status = [timed(lambda: server.supervisor.getProcessInfo(f"u{i % units:02d}")) for i in range(samples)]
        control = []
        for i in range(samples // 4):
            name = f"u{i % units:02d}"
            # wait=False: acknowledged once supervisord accepted, like PluginHost's answer
            control.append(timed(lambda: server.supervisor.stopProcess(name, False)))
            wait(lambda: server.supervisor.getProcessInfo(name)["statename"] == "STOPPED", 30, 0.002)
            control.append(timed(lambda: server.supervisor.startProcess(name, False)))
            wait(lambda: server.supervisor.getProcessInfo(name)["statename"] == "RUNNING", 30, 0.002)
        return {"status": summary(status), "control": summary(control)}
    finally:
        proc.terminate()
        proc.wait(60)


PM2_SCRIPT = r"""
const pm2 = require(process.argv[2]);
const [samples, units] = [Number(process.argv[3]), Number(process.argv[4])];
const t = () => Number(process.hrtime.bigint()) / 1e6;
const call = (fn, ...args) => new Promise((ok, ko) => fn.call(pm2, ...args, (e, r) => e ? ko(e) : ok(r)));
(async () => {
  await call(pm2.connect);
  const apps = [...Array(units).keys()].map(i => ({ name: `u${String(i).padStart(2, "0")}`, script: "/bin/sleep", args: [`3002${String(i).padStart(2, "0")}`], interpreter: "none", autorestart: true }));
  for (const app of apps) await call(pm2.start, app);
  for (let i = 0; i < 200; i++) await call(pm2.describe, "u00");
  const status = [], control = [];
  for (let i = 0; i < samples; i++) { const t0 = t(); await call(pm2.describe, apps[i % units].name); status.push(t() - t0); }
  for (let i = 0; i < samples / 4; i++) { const t0 = t(); await call(pm2.restart, apps[i % units].name); control.push(t() - t0); }
  await call(pm2.delete, "all");
  pm2.disconnect();
  console.log(JSON.stringify({ status, control }));
  process.exit(0);
})().catch(e => { console.error(e); process.exit(1); });
"""


def pm2(samples, units):
    work = tempfile.mkdtemp(prefix="api-latency-pm2-")
    env = dict(os.environ, PM2_HOME=os.path.join(work, "pm2"))
    script = os.path.join(work, "bench.js")
    with open(script, "w") as f:
        f.write(PM2_SCRIPT)
    module = os.path.join(os.path.dirname(os.path.dirname(PM2)), "pm2")
    try:
        out = subprocess.run(["node", script, module, str(samples), str(units)], env=env, capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        data = json.loads(out.stdout.strip().splitlines()[-1])
        return {"status": summary(data["status"]), "control": summary(data["control"])}
    finally:
        subprocess.run([PM2, "kill"], env=env, capture_output=True, timeout=60)


def python_server(samples):
    """The python-server plugin's own operations on a real uvicorn app (the seed asks for < 100 ms acknowledgement)."""
    python = "/usr/bin/python3"
    if subprocess.run([python, "-c", "import uvicorn, fastapi"], capture_output=True).returncode != 0:
        return None
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc, port = start_host("api-latency-py-", {"api": "apiVersion: pluginhost/v1\nkind: python-server\nname: api\n"
                            f"spec: {{ app: main:app, appDir: {root}/samples/hello-api, python: {python}, port: {free_port()} }}\n"})
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def op(name, body=b"{}"):
            t0 = time.perf_counter()
            conn.request("POST", f"/api/units/api/ops/{name}", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            answer = json.loads(response.read())
            assert response.status == 200 and answer["success"], answer
            return (time.perf_counter() - t0) * 1000, answer

        def state():
            try:
                conn.request("GET", "/api/units/api")
                return json.loads(conn.getresponse().read())["state"]
            except (OSError, http.client.HTTPException):
                conn.close()
                return None
        wait(lambda: state() == "ready", 60, 0.05)
        for _ in range(100):
            op("status")
        status = [op("status")[0] for _ in range(samples)]
        control, served = [], []
        for _ in range(max(10, samples // 100)):
            control.append(op("restart")[0])
            wait(lambda: state() == "ready", 60, 0.002)
            served.append(op("restart", b'{"wait": true}')[0])  # acknowledged only when uvicorn serves again
        return {"status": summary(status), "control": summary(control), "served": summary(served)}
    finally:
        proc.terminate()
        proc.wait(60)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--units", type=int, default=10)
    args = parser.parse_args()
    results = {"PluginHost": pluginhost(args.samples, args.subscribers, args.units)}
    print(json.dumps(results["PluginHost"]), file=sys.stderr)
    results["supervisord"] = supervisord(args.samples, args.units)
    print(json.dumps(results["supervisord"]), file=sys.stderr)
    results["pm2"] = pm2(args.samples, args.units)
    print(json.dumps(results["pm2"]), file=sys.stderr)

    ph = results["PluginHost"]
    print(f"Date: {time.strftime('%Y-%m-%d')} · {os.cpu_count()} cores · {args.units} units · "
          f"PluginHost with {args.subscribers} SSE subscribers ({ph['events_delivered']} events delivered to them during the run)")
    print()
    print("| measure (ms) | PluginHost | supervisord XML-RPC (ratio) | pm2 API (ratio) | target |")
    print("| --- | --- | --- | --- | --- |")
    for key, label, target in (("status", "status round trip", "p99 < 10"), ("control", "control acknowledgement", "p99 < 20")):
        for stat in ("p50", "p99"):
            a = ph[key][stat]
            cells = [f"{results[o][key][stat]:.2f} ({results[o][key][stat] / a:.1f}×)" for o in ("supervisord", "pm2")]
            print(f"| {label}, {stat} | {a:.2f} | {cells[0]} | {cells[1]} | {target if stat == 'p99' else ''} |")
    print()
    print("Ratios: how many times PluginHost is faster (>1 = PluginHost better).")
    py = python_server(args.samples)
    if py is None:
        print("\npython-server: skipped (/usr/bin/python3 cannot import uvicorn and fastapi)")
        return
    print(json.dumps(py), file=sys.stderr)
    print()
    print("python-server operations on a real uvicorn + FastAPI app (no SSE subscribers):")
    print()
    print("| operation (ms) | p50 | p99 | seed's bar |")
    print("| --- | --- | --- | --- |")
    print(f"| `status` | {py['status']['p50']:.2f} | {py['status']['p99']:.2f} | |")
    print(f"| `restart` acknowledgement | {py['control']['p50']:.2f} | {py['control']['p99']:.2f} | < 100 |")
    print(f"| `restart` with `wait` (old server stopped, new one serving) | {py['served']['p50']:.1f} | {py['served']['p99']:.1f} | |")


if __name__ == "__main__":
    main()
