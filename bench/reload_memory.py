#!/usr/bin/env python3
"""Host memory across hot reloads: does reloading plugins make the supervisor grow?

Starts the Release host with N idle `process` units and the four real plugins, then reloads every
plugin R rounds over the API (POST /api/plugins/NAME/reload, which hands the running units over to
the new version) and prints the host's RSS before, after the first round, half-way and after the
last, the growth per round over the second half, the reload latency, and how many old versions were
reported as leaked. Run `bench/run` (or `dotnet build -c Release host/PluginHost`) once first.
"""
import argparse, json, os, shutil, statistics, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from supervisors import PluginHost, count_prefix, rss_kb, wait  # noqa: E402

PLUGINS = ["process", "pty-session", "python-server", "shimmy"]
# The unload check spreads its collections over ≈ 4 s; waiting this long lets every old version go.
SETTLE_S = 6


def post(base, path):
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(base + path, method="POST"), timeout=60) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="reload-bench-")
    marker = "40000"
    host = PluginHost(work)
    host.start([(f"u{i:03d}", ["/bin/sleep", f"{marker}.{i:03d}"]) for i in range(args.units)])
    try:
        wait(host.ready, 60, 0.05)
        wait(lambda: count_prefix(marker + ".") >= args.units, 60, 0.01)
        base = f"http://127.0.0.1:{host.port}"
        pid = host.daemon_pids()[0]
        time.sleep(3)
        rss = [rss_kb(pid) / 1024]
        latencies = []
        for _ in range(args.rounds):
            latencies += [post(base, f"/api/plugins/{name}/reload") for name in PLUGINS]
            time.sleep(SETTLE_S)
            rss.append(rss_kb(pid) / 1024)
        pids_after = count_prefix(marker + ".")
    finally:
        host.shutdown()
    with open(os.path.join(work, "host.out")) as f:
        output = f.read()
    leaks = output.count("still alive after")
    shutil.rmtree(work, ignore_errors=True)

    # The runtime keeps some of what each reload used for the next ones, so the host grows over the
    # first rounds and then levels off; the second half of the rounds says whether it keeps growing.
    half = len(rss) // 2
    per_round = (rss[-1] - rss[half]) / (len(rss) - 1 - half) if len(rss) - 1 > half else 0.0
    result = {"units": args.units, "rounds": args.rounds, "reloads": len(latencies), "rss_mb": [round(r, 1) for r in rss],
              "second_half_growth_per_round_mb": round(per_round, 2), "latency_ms_median": round(statistics.median(latencies), 1),
              "latency_ms_max": round(max(latencies), 1), "leaks_reported": leaks, "units_still_running": pids_after}
    print(json.dumps(result), file=sys.stderr)
    print(f"| host RSS before / after round 1 / after round {half} / after round {args.rounds} (MB) | {rss[0]:.1f} / {rss[1]:.1f} / {rss[half]:.1f} / {rss[-1]:.1f} |")
    print(f"| growth per round over the second half ({len(PLUGINS)} reloads a round, MB) | {per_round:.2f} |")
    print(f"| reload over the API, median / max (ms) | {statistics.median(latencies):.1f} / {max(latencies):.1f} |")
    print(f"| old versions reported leaked | {leaks} of {len(latencies)} |")
    print(f"| units still running (same processes) | {pids_after} of {args.units} |")


if __name__ == "__main__":
    main()
