#!/usr/bin/env python3
"""A subscriber that reads messages as Logstash's zeromq input does.

Logstash's zeromq input (topology "pubsub") takes the first frame of a
multipart message as its topic (stored in the event's topic field) and
decodes each further frame as an event with the json codec. This does the
same for the plugin's default two-frame messages, [path, json]: it BINDs a
SUB socket subscribed to everything, checks that each message has two
frames and that frame 2 decodes as one JSON object, and appends frame 2,
byte for byte, to DIR/<topic>.log. Anything else is appended to
DIR/not-path-and-json.txt (which a test then finds).

It creates the --ready file once bound, and stops, exit status 0, on
SIGTERM or SIGINT (after writing what it received).
"""

import argparse
import json
import os
import signal
import sys

try:
    import zmq
except ImportError:
    sys.exit("logstash-style-sub.py: the Python module 'zmq' is missing: pip install pyzmq")

stop = False


def on_signal(_signum, _frame):
    global stop
    stop = True


def is_json_object(body):
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bind", required=True, help="endpoint to bind, e.g. tcp://127.0.0.1:5555")
    p.add_argument("--dir", required=True, help="directory of the <topic>.log files")
    p.add_argument("--ready", required=True, help="file created once bound")
    args = p.parse_args()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ctx = zmq.Context()
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, 0)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.bind(args.bind)
    with open(args.ready, "w") as f:
        f.write(f"{os.getpid()} {args.bind}\n")

    files = {}
    received = 0
    while not stop:
        if not sock.poll(100):
            continue
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            received += 1
            topic = frames[0].decode("utf-8", "surrogateescape")
            if len(frames) == 2 and "/" not in topic and is_json_object(frames[1]):
                name, body = topic + ".log", frames[1]
            else:
                name, body = "not-path-and-json.txt", repr(frames).encode()
            if name not in files:
                files[name] = open(os.path.join(args.dir, name), "ab")
            files[name].write(body + b"\n")
        for f in files.values():
            f.flush()

    for f in files.values():
        f.close()
    sock.close()
    ctx.term()
    print(f"logstash-style-sub.py: {received} messages into {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
