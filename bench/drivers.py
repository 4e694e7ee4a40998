#!/usr/bin/env python3
"""Equipment drivers (docs/drivers.md), measured against real peers, side by side with a Python client
of the same peer in the same run:

1. modbus-tcp: "read holding 0 10" round trips, one after another, against Debian's pymodbus 3.0
   server; beside it pymodbus's own synchronous client reading the same registers from the same
   server, so the ratio shows what the driver adds over the peer's own cost;
2. scpi-tcp: "MEAS:VOLT?" queries against a fake SCPI instrument (this script's, a threaded TCP
   server: LF framing, an error queue); with SYST:ERR? drained after every query (the default: two
   exchanges per query) and with checkErrors: false (one); beside it a raw Python socket client
   sending the same two exchanges.

The C# side is bench/DriverBench: the driver loaded from artifacts/drivers/ with McMaster, as the
worker loads it (Release build). Needs /usr/bin/python3 with pymodbus (apt-get install python3-pymodbus).
"""
import argparse, json, os, socket, socketserver, subprocess, sys, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "artifacts", "bench", "driver-bench")
MODBUS_SERVER = os.path.join(ROOT, "tests", "PluginHost.Station.Tests", "Conformance", "modbus_server.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build():
    for project in ["plugins/Drivers.Modbus", "plugins/Drivers.Scpi"]:
        subprocess.run(["dotnet", "build", project, "-c", "Release", "--nologo", "-v", "q"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["dotnet", "build", "bench/DriverBench", "-c", "Release", "--nologo", "-v", "q", "-o", BENCH], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def driver_bench(plugin, driver, port, command, count, *options):
    dll = os.path.join(ROOT, "artifacts", "drivers", plugin, f"PluginHost.Drivers.{plugin.capitalize()}.dll")
    out = subprocess.run(["dotnet", os.path.join(BENCH, "DriverBench.dll"), dll, driver, "127.0.0.1", str(port), command, str(count), *options],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def timed(count, one):
    for _ in range(min(1000, count // 10)):
        one()
    samples = []
    started = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        one()
        samples.append((time.perf_counter() - t0) * 1e6)
    seconds = time.perf_counter() - started
    samples.sort()
    return {"commands": count, "seconds": round(seconds, 3), "perSecond": round(count / seconds),
            "p50Us": round(samples[len(samples) // 2], 1), "p99Us": round(samples[int(len(samples) * 0.99)], 1)}


def modbus(count):
    from pymodbus.client import ModbusTcpClient
    port = free_port()
    # stderr: pymodbus logs every client that hangs up as an ERROR
    server = subprocess.Popen(["/usr/bin/python3", MODBUS_SERVER, str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        ours = driver_bench("modbus", "modbus-tcp", port, "read holding 0 10", count)
        client = ModbusTcpClient("127.0.0.1", port=port)
        client.connect()
        theirs = timed(count, lambda: client.read_holding_registers(0, 10, slave=1))
        client.close()
        return ours, theirs
    finally:
        server.terminate()
        server.wait()


class FakeScpi(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class ScpiSession(socketserver.StreamRequestHandler):
    def handle(self):
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        errors = []
        for raw in self.rfile:
            line = raw.decode("ascii").strip().upper()
            if line == "*IDN?":
                answer = "FAKE,SCPI-BENCH,0,1.0"
            elif line == "*CLS":
                errors.clear()
                continue
            elif line == "MEAS:VOLT?":
                answer = "+1.23450000E+00"
            elif line == "SYST:ERR?":
                answer = errors.pop(0) if errors else '+0,"No error"'
            else:
                errors.append('-113,"Undefined header"')
                continue
            self.wfile.write((answer + "\n").encode("ascii"))


def scpi(count):
    port = free_port()
    server = FakeScpi(("127.0.0.1", port), ScpiSession)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        checked = driver_bench("scpi", "scpi-tcp", port, "MEAS:VOLT?", count)
        unchecked = driver_bench("scpi", "scpi-tcp", port, "MEAS:VOLT?", count, "checkErrors=false")
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")

        def query():
            sock.sendall(b"MEAS:VOLT?\n")
            reader.readline()
            sock.sendall(b"SYST:ERR?\n")
            reader.readline()

        theirs = timed(count, query)
        sock.close()
        return checked, unchecked, theirs
    finally:
        server.shutdown()
        server.server_close()


def row(name, r, reference=None):
    ratio = f"{r['perSecond'] / reference['perSecond']:.2f}×" if reference else "—"
    return f"| {name} | {r['perSecond']:,} | {r['p50Us']} | {r['p99Us']} | {ratio} |"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build()
    ours, pymodbus_client = modbus(args.count)
    checked, unchecked, raw = scpi(args.count)
    print(f"{args.count:,} commands each, one after another, on loopback ({os.cpu_count()} cores)\n")
    print("| client → peer | commands/s | p50 µs | p99 µs | vs the Python client |")
    print("| --- | --- | --- | --- | --- |")
    print(row("modbus-tcp → pymodbus 3.0 server (read holding 0 10)", ours, pymodbus_client))
    print(row("pymodbus client → the same server", pymodbus_client))
    print(row("scpi-tcp → fake instrument (MEAS:VOLT? + SYST:ERR?)", checked, raw))
    print(row("scpi-tcp, checkErrors: false (MEAS:VOLT? only)", unchecked))
    print(row("Python socket client → the same instrument (both exchanges)", raw))


if __name__ == "__main__":
    main()
