"""A batch worker written with pyzmq (libzmq), for the master's side of the protocol.

Usage: worker.py ENDPOINT BATCH SESSION EVENTS. Connects a DEALER with identity BATCH/SESSION,
heartbeats, answers GET_STATUS and START_SEQUENCE, then sends EVENTS events of one execution out of
order, twice, and with garbage between them — and resends until the master has acknowledged them
all. A stray DEALER named like the batch (no session) tries to slip an event in. Prints what it saw.
"""
import json
import sys
import time

import zmq

endpoint, batch, session, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
context = zmq.Context()
dealer = context.socket(zmq.DEALER)
dealer.setsockopt(zmq.IDENTITY, f"{batch}/{session}".encode())
dealer.setsockopt(zmq.LINGER, 0)
dealer.connect(endpoint)
stray = context.socket(zmq.DEALER)
stray.setsockopt(zmq.IDENTITY, batch.encode())
stray.setsockopt(zmq.LINGER, 0)
stray.connect(endpoint)
report = {"acked": 0, "replies": [], "stray": None, "hello": 0, "errors": []}


def send(message):
    dealer.send(json.dumps({"v": 1, "batch": batch, **message}).encode())


def event(seq):
    kind = "SEQUENCE_COMPLETE" if seq == count else "STEP_COMPLETE"
    return {"type": kind, "exec": "py-exec-1", "seq": seq, "body": {"step": f"s{seq}", "outcome": "PASS"} if seq < count else {"verdict": "PASS"}}


execution_started = False
deadline = time.time() + 60
last_heartbeat = 0
while time.time() < deadline and report["acked"] < count:
    if time.time() - last_heartbeat > 0.2:
        send({"type": "HEARTBEAT", "body": {"state": "running" if execution_started else "idle"}})
        last_heartbeat = time.time()
    if dealer.poll(50):
        message = json.loads(dealer.recv())
        if message["type"] == "HELLO":
            report["hello"] += 1
        elif message["type"] == "ACK":
            report["acked"] = max(report["acked"], message["seq"])
        elif message["type"] == "REPLY":
            report["errors"].append(message["error"]["code"])
        elif message["type"] in ("GET_STATUS", "START_SEQUENCE"):
            report["replies"].append(message["type"])
            body = {"state": "idle"} if message["type"] == "GET_STATUS" else {"execution": "py-exec-1"}
            send({"type": "REPLY", "re": message["id"], "ok": True, "body": body})
            if message["type"] == "START_SEQUENCE" and not execution_started:
                execution_started = True
                # Out of order, doubled, with garbage: the master must take 1..count once each.
                order = [2, 1, 1] + list(range(3, count + 1))[::-1] + list(range(2, count + 1))
                dealer.send(b"\xff garbage")
                for seq in order:
                    send(event(seq))
                stray.send(json.dumps({"v": 1, "type": "STEP_COMPLETE", "batch": batch, "exec": "py-exec-1", "seq": report["acked"] + 1, "body": {"step": "forged"}}).encode())
    if stray.poll(0):
        report["stray"] = json.loads(stray.recv())["error"]["code"]
    if execution_started and report["acked"] < count and int(time.time() * 10) % 5 == 0:
        for seq in range(report["acked"] + 1, count + 1):
            send(event(seq))
end = time.time() + 3
while report["stray"] is None and time.time() < end:
    if stray.poll(100):
        report["stray"] = json.loads(stray.recv())["error"]["code"]
print(json.dumps(report))
