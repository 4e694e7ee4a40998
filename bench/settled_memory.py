#!/usr/bin/env python3
"""Supervisor RSS at 100 idle units over time, not only 3 s after the start: PluginHost, supervisord
and pm2 side by side in one run (all three at once, each with its own 100 `sleep` units), the
daemon's RSS sampled every 30 s for --minutes. bench/run measures 3 s after the units start;
a daemon that sheds its startup garbage later (pm2's V8) or keeps growing shows here.

Run `bench/run` once first (it installs supervisord and pm2 and builds the host in Release).
"""
import argparse, os, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from supervisors import PluginHost, Pm2, Supervisord, count_prefix, rss_kb, stray_supervisors, versions, wait  # noqa: E402

SYSTEMS = (PluginHost, Supervisord, Pm2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--interval", type=float, default=30, help="seconds between samples")
    args = parser.parse_args()
    strays = stray_supervisors()
    if strays:
        sys.exit("other supervisors are running and would distort the figures; stop them first:\n" + "\n".join(strays))

    base = tempfile.mkdtemp(prefix="settled-")
    started = []
    try:
        for tag, cls in enumerate(SYSTEMS, start=1):
            marker = f"60000{tag}"
            system = cls(tempfile.mkdtemp(prefix=cls.name + "-", dir=base))
            system.start([(f"u{i:03d}", ["/bin/sleep", f"{marker}.{i:03d}"]) for i in range(args.units)])
            started.append(system)
            wait(system.ready, 60, 0.05)
            wait(lambda: count_prefix(marker + ".") >= args.units, 120, 0.01)

        samples = {s.name: [] for s in started}
        times = []
        t0 = time.monotonic()
        while True:
            elapsed = time.monotonic() - t0
            times.append(elapsed / 60)
            for s in started:
                samples[s.name].append(sum(rss_kb(p) for p in s.daemon_pids()) / 1024)
            print(f"{elapsed / 60:5.1f} min  " + "  ".join(f"{n} {v[-1]:.1f}" for n, v in samples.items()), file=sys.stderr)
            if elapsed >= args.minutes * 60:
                break
            time.sleep(args.interval)
    finally:
        for s in started:
            s.shutdown()

    v = versions()
    print(f"Date: {time.strftime('%Y-%m-%d')} · {os.cpu_count()} cores · {args.units} idle units each, all three at once · "
          f"PluginHost {v['PluginHost']} · supervisord {v['supervisord']} · pm2 {v['pm2']}")
    print()
    marks = sorted({m for m in (0.0, 1.0, args.minutes / 2, args.minutes) if m <= args.minutes})
    print("| supervisor RSS (MB) | " + " | ".join(f"{m:g} min" for m in marks) + " | ratio at the end |")
    print("| --- | " + " | ".join("---" for _ in marks) + " | --- |")
    ours = samples[PluginHost.name][-1]
    for name, values in samples.items():
        cells = [f"{values[min(range(len(times)), key=lambda i: abs(times[i] - m))]:.1f}" for m in marks]
        ratio = "" if name == PluginHost.name else f"{values[-1] / ours:.2f}×"
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")
    print()
    print("Ratio: the other daemon's RSS over PluginHost's (> 1 = PluginHost smaller).")


if __name__ == "__main__":
    main()
