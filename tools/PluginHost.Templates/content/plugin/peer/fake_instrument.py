#!/usr/bin/env python3
"""A stand-in for the acme-sample instrument, to try the driver by hand (README.md): one command
per line over TCP on 127.0.0.1 -- *IDN?, MEAS? (the last VOLT set), VOLT x; any other query is
answered ERR. The tests use their own (tests/Acme.Sample.Tests/FakeInstrument.cs)."""
import argparse
import socketserver

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--port", type=int, default=5025)
port = parser.parse_args().port


class Instrument(socketserver.StreamRequestHandler):
    volts = 1.25

    def handle(self):
        for raw in self.rfile:
            command = raw.decode("utf-8", "replace").strip()
            if command.startswith("VOLT "):
                try:
                    Instrument.volts = float(command[5:])
                except ValueError:
                    pass
            elif command.endswith("?"):
                answer = {"*IDN?": "Acme,Sample-1,SN0001,1.0", "MEAS?": f"{Instrument.volts:.3f}"}.get(command, f"ERR unknown command {command}")
                self.wfile.write((answer + "\n").encode())
                self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Server(("127.0.0.1", port), Instrument) as server:
    print(f"fake acme-sample instrument on 127.0.0.1:{port}", flush=True)
    server.serve_forever()
