"""The plist peer for the tests: Python's own plistlib (which nobody here wrote) writes and reads both forms.

  plistlib_peer.py make DIR      writes every case as DIR/NAME.xml.plist, DIR/NAME.bin.plist and DIR/NAME.json
  plistlib_peer.py read FILE     prints FILE's value as canonical JSON (XML or binary, plistlib decides)
  plistlib_peer.py binary IN OUT rewrites a plist in the binary form

Canonical JSON tags the types JSON lacks, so nothing is compared loosely: {"int": n},
{"real": "<8 bytes, big-endian hex>"}, {"date": unix seconds}, {"data": base64}; strings, booleans,
lists and dicts are themselves.
"""
import base64
import datetime
import json
import plistlib
import struct
import sys


def canon(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, float):
        return {"real": struct.pack(">d", value).hex()}
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return {"data": base64.b64encode(value).decode()}
    if isinstance(value, datetime.datetime):
        return {"date": int(value.replace(tzinfo=datetime.timezone.utc).timestamp())}
    if isinstance(value, list):
        return [canon(v) for v in value]
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    raise TypeError(type(value))


def job(label, port, name):
    return {
        "Label": label,
        "ProgramArguments": ["/usr/bin/python3", "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", str(port)],
        "WorkingDirectory": f"/Users/jjh_server/llmclass_platform/{name}",
        "EnvironmentVariables": {"PATH": "/opt/homebrew/bin:/usr/bin:/bin", "PYTHONUNBUFFERED": "1"},
        "RunAtLoad": True,
        "KeepAlive": True,
        "ThrottleInterval": 30,
        "StandardOutPath": f"/Users/jjh_server/llmclass_platform/logs/{name}.log",
        "StandardErrorPath": f"/Users/jjh_server/llmclass_platform/logs/{name}.error.log",
    }


def cases():
    yield "hub", job("com.llmclassroom.hub", 8003, "hub")
    yield "proto1", job("com.llmclassroom.proto1", 8001, "proto1")
    yield "proto3", job("com.llmclassroom.proto3", 8002, "proto3")
    yield "proto4", job("com.llmclassroom.proto4", 8000, "proto4")
    yield "cloudflared", {
        "Label": "com.llmclassroom.cloudflared",
        "ProgramArguments": ["/opt/homebrew/bin/cloudflared", "tunnel", "run", "llmclassroom"],
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False, "Crashed": True, "PathState": {"/opt/homebrew/bin/cloudflared": True},
                      "OtherJobEnabled": {"com.llmclassroom.hub": True}},
        "ThrottleInterval": 30,
        "ExitTimeOut": 5,
        "StandardOutPath": "/Users/jjh_server/llmclass_platform/logs/cloudflared.log",
        "StandardErrorPath": "/Users/jjh_server/llmclass_platform/logs/cloudflared.error.log",
        "ProcessType": "Background",
        "StartCalendarInterval": [{"Hour": 3, "Minute": 0}],
        "Disabled": False,
    }
    yield "values", {
        "unicode": "한글 서비스 🛡️ ünïcödé",
        "markup": "a & b < c > d \" e ' f",
        "long ascii": "x" * 300,
        "empty": "",
        "ints": [0, 1, -1, 14, 15, 16, 255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**32, -2**31, 2**62, -2**63, 2**63 - 1],
        "reals": [0.0, 0.1, -2.5, 1e300, -1e-300, 3.141592653589793],
        "date": datetime.datetime(2026, 12, 2, 17, 30, 5),
        "old date": datetime.datetime(1970, 1, 1, 0, 0, 0),
        "data": bytes(range(256)) * 2,
        "no data": b"",
        "nothing": [],
        "no keys": {},
        "deep": [[[[[[[[[[{"k": "v"}]]]]]]]]]],
        "booleans": [True, False],
    }
    yield "many", {f"key{i:04}": [f"value {i}", i] for i in range(400)}  # > 255 objects: 2-byte references and offsets


def main():
    if sys.argv[1] == "make":
        folder = sys.argv[2]
        for name, value in cases():
            with open(f"{folder}/{name}.xml.plist", "wb") as f:
                plistlib.dump(value, f, fmt=plistlib.FMT_XML, sort_keys=False)
            with open(f"{folder}/{name}.bin.plist", "wb") as f:
                plistlib.dump(value, f, fmt=plistlib.FMT_BINARY, sort_keys=False)
            with open(f"{folder}/{name}.json", "w") as f:
                json.dump(canon(value), f, ensure_ascii=False)
    elif sys.argv[1] == "read":
        with open(sys.argv[2], "rb") as f:
            print(json.dumps(canon(plistlib.load(f)), ensure_ascii=False))
    elif sys.argv[1] == "binary":
        with open(sys.argv[2], "rb") as f:
            value = plistlib.load(f)
        with open(sys.argv[3], "wb") as f:
            plistlib.dump(value, f, fmt=plistlib.FMT_BINARY, sort_keys=False)
    else:
        raise SystemExit("usage: make DIR | read FILE | binary IN OUT")


if __name__ == "__main__":
    main()
