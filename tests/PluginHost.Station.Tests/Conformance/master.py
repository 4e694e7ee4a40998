"""A station master written with pyzmq (libzmq), driving a real batch worker through a whole run.

Usage: master.py PORT BATCH. Binds a ROUTER on 127.0.0.1:PORT, then checks what docs/station.md
promises a master, and prints one JSON object with what it saw. Not acknowledging the first events
for two seconds proves the worker sends them again; garbage and unknown types must get coded
error replies, never silence or a crash.
"""
import json
import sys
import time

import zmq

port, batch = int(sys.argv[1]), sys.argv[2]
context = zmq.Context()
router = context.socket(zmq.ROUTER)
router.setsockopt(zmq.LINGER, 0)
router.bind(f"tcp://127.0.0.1:{port}")
poller = zmq.Poller()
poller.register(router, zmq.POLLIN)
report = {"errors": {}, "events": [], "resent": 0, "heartbeats": 0}
peer = None


def receive(timeout_s):
    """One message from the worker as (identity, dict), or None at the deadline."""
    global peer
    if not poller.poll(int(timeout_s * 1000)):
        return None
    frames = router.recv_multipart()
    peer = frames[0]
    return frames[0], json.loads(frames[-1])


def send(message):
    router.send_multipart([peer, json.dumps(message).encode()])


def send_raw(data):
    router.send_multipart([peer, data])


def reply_to(command_id, deadline_s=10):
    """Waits for the REPLY to command_id, counting heartbeats and keeping events meanwhile."""
    end = time.time() + deadline_s
    while time.time() < end:
        got = receive(end - time.time())
        if got is None:
            break
        _, message = got
        if message["type"] == "REPLY" and message.get("re") == command_id:
            return message
        if message["type"] == "REPLY" and message.get("re") is None:
            report["errors"].setdefault("unsolicited", []).append(message["error"]["code"])
        keep(message)
    raise SystemExit(f"no REPLY to {command_id} within {deadline_s} s")


seen = {}
acking = False


def keep(message):
    if message["type"] == "HEARTBEAT":
        report["heartbeats"] += 1
        return
    if "seq" not in message:
        return
    key = (message["exec"], message["seq"])
    if key in seen:
        report["resent"] += 1
    else:
        seen[key] = message
        report["events"].append({"type": message["type"], "seq": message["seq"], "exec": message["exec"], "body": message.get("body")})
    if acking:
        send({"v": 1, "type": "ACK", "batch": batch, "exec": message["exec"], "seq": max(s for e, s in seen if e == message["exec"])})


# The worker says it is there with a heartbeat at once.
first = receive(30)
if first is None:
    raise SystemExit("the worker never connected")
keep(first[1])

# Garbage in: each gets an error REPLY with a code.
for name, frame in [("not_json", b"\xff\xfe{{"), ("not_object", b"[1,2]"), ("old_version", json.dumps({"v": 0, "type": "GET_STATUS", "batch": batch, "id": "x"}).encode()),
                    ("unknown_type", json.dumps({"v": 1, "type": "MAKE_COFFEE", "batch": batch, "id": "x"}).encode()),
                    ("no_id", json.dumps({"v": 1, "type": "GET_STATUS", "batch": batch}).encode())]:
    send_raw(frame)
    end = time.time() + 10
    while True:
        got = receive(end - time.time())
        if got is None:
            raise SystemExit(f"no error reply to {name}")
        if got[1]["type"] == "REPLY" and got[1].get("ok") is False:
            report["errors"][name] = got[1]["error"]["code"]
            break
        keep(got[1])

status = reply_to_id = None
send({"v": 1, "type": "GET_STATUS", "batch": batch, "id": "s1"})
report["status_before"] = reply_to("s1")["body"]["state"]

send({"v": 1, "type": "START_SEQUENCE", "batch": batch, "id": "c1", "body": {"params": {"dut_serial": "SN-PY"}}})
started = reply_to("c1")
report["started"] = started["ok"]
execution = started["body"]["execution"]

send({"v": 1, "type": "START_SEQUENCE", "batch": batch, "id": "c2", "body": {}})
report["second_start"] = reply_to("c2")["error"]["code"]

# Two seconds without acknowledging anything: what the worker sent must come again.
end = time.time() + 2.5
while time.time() < end:
    got = receive(end - time.time())
    if got:
        keep(got[1])
acking = True
if seen:
    last = max(s for e, s in seen if e == execution)
    send({"v": 1, "type": "ACK", "batch": batch, "exec": execution, "seq": last})

end = time.time() + 60
while time.time() < end and not any(e["type"] in ("SEQUENCE_COMPLETE", "SEQUENCE_ERROR") for e in report["events"]):
    got = receive(end - time.time())
    if got:
        keep(got[1])

# Everything acknowledged: the worker's heartbeat says nothing is pending.
end = time.time() + 10
pending = None
while time.time() < end:
    got = receive(end - time.time())
    if got and got[1]["type"] == "HEARTBEAT":
        pending = got[1]["body"]["pending"]
        if pending == 0:
            break
    elif got:
        keep(got[1])
report["pending_after_ack"] = pending

send({"v": 1, "type": "SHUTDOWN", "batch": batch, "id": "z"})
report["shutdown"] = reply_to("z")["ok"]
print(json.dumps(report))
