#!/usr/bin/env python3
"""A ZeroMQ subscriber that never reads: the slow subscriber of the drop tests.

It binds (--bind; Zeek connects, the default) or connects (--connect) a SUB
socket that subscribes to everything, with the smallest receive queue ZeroMQ
and the kernel allow (ZMQ_RCVHWM 1, a small SO_RCVBUF), creates --ready and
then never receives: once the kernel buffers and the writer's high-water
mark are full, every further record is one the writer cannot queue. With
--ready-on-message it first receives one message (so Zeek's socket certainly
has its subscription), then creates --ready and stalls.

It stops, exit status 0, when --until-file exists (closing without linger),
or with exit status 3 after --deadline seconds.
"""

import argparse
import os
import sys
import time

try:
    import zmq
except ImportError:
    sys.exit("zmq-stall-sub.py: the Python module 'zmq' is missing: pip install pyzmq")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--bind", help="endpoint to bind, e.g. tcp://127.0.0.1:5555")
    where.add_argument("--connect", help="endpoint to connect to (Zeek binds it)")
    p.add_argument("--ready", required=True, help="file created once bound or connected")
    p.add_argument("--ready-on-message", action="store_true",
                   help="receive one message first, then create --ready and stall")
    p.add_argument("--until-file", required=True, help="stop once this file exists")
    p.add_argument("--deadline", type=float, default=120.0,
                   help="give up (exit 3) after this many seconds (default 120)")
    args = p.parse_args()

    ctx = zmq.Context()
    sock = ctx.socket(zmq.SUB)
    # Before bind/connect: they apply to the connections made then.
    sock.setsockopt(zmq.RCVHWM, 1)
    sock.setsockopt(zmq.RCVBUF, 4096)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")

    endpoint = args.bind or args.connect
    try:
        if args.bind:
            sock.bind(endpoint)
        else:
            sock.connect(endpoint)
    except zmq.ZMQError as e:
        sys.exit(f"zmq-stall-sub.py: cannot {'bind' if args.bind else 'connect to'} {endpoint}: {e}")

    start = time.monotonic()
    if args.ready_on_message:
        sock.setsockopt(zmq.RCVTIMEO, int(args.deadline * 1000))
        try:
            sock.recv_multipart()
        except zmq.Again:
            sys.exit(f"zmq-stall-sub.py: {endpoint}: no message within {args.deadline}s")

    with open(args.ready, "w") as f:
        f.write(f"{os.getpid()} {endpoint}\n")

    status = 0
    while not os.path.exists(args.until_file):
        if time.monotonic() - start >= args.deadline:
            status = 3
            break
        # A ZeroMQ socket does its housekeeping only inside calls on it: a
        # bound SUB sends its subscription to a new peer then. Reading
        # ZMQ_EVENTS does that without receiving anything.
        sock.getsockopt(zmq.EVENTS)
        time.sleep(0.05)

    sock.close()
    ctx.term()
    if status:
        print(f"zmq-stall-sub.py: {endpoint}: deadline of {args.deadline}s reached "
              f"before {args.until_file} appeared", file=sys.stderr)
    else:
        print(f"zmq-stall-sub.py: {endpoint}: {args.until_file} exists, stopped")
    return status


if __name__ == "__main__":
    sys.exit(main())
