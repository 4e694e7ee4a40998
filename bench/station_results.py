#!/usr/bin/env python3
"""Station results (docs/station.md, "Results", "Sync", "The station API"), measured from outside on
the real host (Release build):

1. step results stored per second with their sync rows: one batch runs 20,000 zero-length steps;
   the rate is taken from the rows' own timestamps in results.db (goal >= 5,000/s on 2 cores);
2. WebSocket fan-out: 100 subscribers of the station's /ws follow a 2,000-step run; every one must
   get every step_complete (0 lost);
3. sync throughput: copies of the database from (1) sent by the station-sync program to a local
   HTTP backend (Python's http.server) and to a private PostgreSQL server (Debian postgresql).

Needs /usr/bin/python3; PostgreSQL is skipped (and said so) when initdb is not installed.
"""
import argparse, glob, http.server, json, os, shutil, socket, sqlite3, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from station import Host, ROOT, batch_yaml, package  # noqa: E402
from pty_sessions import WebSocket  # noqa: E402
from supervisors import free_port, wait  # noqa: E402

SYNC = os.path.join(ROOT, "artifacts", "station-sync", "station-sync.dll")


def results_db(host):
    return os.path.join(host.work, "data", "plugin-data", "station-batch", "results.db")


def count(db, sql):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return c.execute(sql).fetchone()[0]


def stored_per_second(steps, work):
    host = Host({"line1": batch_yaml("line1", package(os.path.join(work, "p1"), steps, 0))})
    try:
        host.op("line1", "startSequence", {"params": {}})
        db = results_db(host)
        wait(lambda: os.path.exists(db) and count(db, "SELECT COUNT(*) FROM execution_results WHERE status != 'running'") == 1, 300, 0.2)
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            first, last, n = c.execute("SELECT MIN(completed_at), MAX(completed_at), COUNT(*) FROM step_results").fetchone()
            queued = c.execute("SELECT COUNT(*) FROM sync_queue").fetchone()[0]
        seconds = (parse(last) - parse(first))
        copy = os.path.join(work, "results-copy.db")
        with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        return {"steps": n, "seconds": round(seconds, 3), "per_second": round((n - 1) / seconds), "sync_rows": queued}, copy
    finally:
        host.stop()


def parse(text):
    """.NET's round-trip time ("2026-12-02T14:30:00.1234567Z": seven fraction digits) as seconds."""
    from datetime import datetime, timezone
    whole, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(whole).replace(tzinfo=timezone.utc).timestamp() + float("0." + (fraction or "0"))


def fan_out(clients, steps, work):
    host = Host({"line1": batch_yaml("line1", package(os.path.join(work, "p2"), steps, 0))})
    try:
        sockets = []
        for _ in range(clients):
            ws = WebSocket(host.port, "/plugins/station-batch/ws/")
            ws.send(json.dumps({"type": "subscribe", "batch_ids": ["line1"]}).encode(), opcode=1)
            assert json.loads(ws.recv())["type"] == "subscribed"
            sockets.append(ws)
        counts = [0] * clients
        done = [None] * clients

        def follow(i):
            while True:
                message = json.loads(sockets[i].recv())
                if message["type"] == "step_complete":
                    counts[i] += 1
                elif message["type"] == "sequence_complete":
                    done[i] = time.perf_counter()
                    return

        threads = [threading.Thread(target=follow, args=(i,), daemon=True) for i in range(clients)]
        for t in threads:
            t.start()
        started = time.perf_counter()
        host.op("line1", "startSequence", {"params": {}})
        for t in threads:
            t.join(300)
        for ws in sockets:
            ws.close()
        return {"clients": clients, "steps": steps, "lost": sum(steps - c for c in counts), "seconds": round(max(done) - started, 3)}
    finally:
        host.stop()


class Backend(http.server.BaseHTTPRequestHandler):
    taken = set()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        for item in body["items"]:
            Backend.taken.add(item["key"])
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def sync_once(db, settings, env, work):
    path = os.path.join(work, "sync.json")
    with open(path, "w") as f:
        json.dump({"database": db, "station": "bench", "intervalMs": 60000, "timeoutMs": 30000, "batchSize": 500, **settings}, f)
    rows = count(db, "SELECT COUNT(*) FROM sync_queue")
    started = time.perf_counter()
    proc = subprocess.Popen(["dotnet", SYNC, "--config", path], env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: count(db, "SELECT COUNT(*) FROM sync_queue") == 0, 300, 0.05)
        seconds = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(60)
    return {"rows": rows, "seconds": round(seconds, 3), "per_second": round(rows / seconds)}


def postgres(work):
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        return None, None
    bin_dir = os.path.dirname(initdb[-1])
    data = os.path.join(work, "pg")
    os.makedirs(data)
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
        shutil.chown(data, "postgres")
        os.chmod(work, 0o711)
    port = free_port()
    subprocess.run(run_as + [f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(run_as + [f"{bin_dir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(data, "log"), "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"],
                   check=True, stdout=subprocess.DEVNULL)
    stop = lambda: subprocess.run(run_as + [f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], stdout=subprocess.DEVNULL)
    return f"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres", stop


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20000)  # long enough for the worker's first-run JIT not to count
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--fan-steps", type=int, default=2000)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["dotnet", "build", "PluginHost.sln", "-c", "Release", "--nologo", "-v", "q"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="station-results-bench-")
    os.chmod(work, 0o711)  # the PostgreSQL server runs as postgres, under this folder
    try:
        stored, copy = stored_per_second(args.steps, work)
        print(f"stored: {stored['steps']:,} step results with {stored['sync_rows']:,} sync rows in {stored['seconds']} s = {stored['per_second']:,}/s")
        fan = fan_out(args.clients, args.fan_steps, work)
        print(f"fan-out: {fan['clients']} subscribers x {fan['steps']:,} steps, {fan['lost']} lost, run + delivery {fan['seconds']} s")
        http_db = os.path.join(work, "http.db")
        shutil.copy(copy, http_db)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Backend)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        http_sync = sync_once(http_db, {"target": "http", "url": f"http://127.0.0.1:{server.server_address[1]}"}, {}, work)
        server.shutdown()
        print(f"sync http: {http_sync['rows']:,} rows in {http_sync['seconds']} s = {http_sync['per_second']:,}/s (backend took {len(Backend.taken):,} distinct)")
        connection, stop = postgres(os.path.join(work, "pgwork"))
        if connection:
            try:
                pg_db = os.path.join(work, "pg.db")
                shutil.copy(copy, pg_db)
                pg_sync = sync_once(pg_db, {"target": "postgres", "connectionEnv": "BENCH_PG"}, {"BENCH_PG": connection}, work)
                print(f"sync postgres: {pg_sync['rows']:,} rows in {pg_sync['seconds']} s = {pg_sync['per_second']:,}/s")
            finally:
                stop()
        else:
            print("sync postgres: skipped (no /usr/lib/postgresql/*/bin/initdb: apt-get install postgresql)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
