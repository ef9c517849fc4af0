#!/usr/bin/env python3
"""A ZeroMQ subscriber for the tests: the other end of the ZeroMQ writer.

By default Zeek's writer connects to its endpoint, so this BINDs a SUB
socket there (--bind); with LogZeroMQ::bind = T, Zeek binds and this CONNECTs
to it (--connect; ZeroMQ retries until Zeek's socket is there). It subscribes
to everything and appends each message it receives to --out, one JSON object
per line:

    {"frames": ["conn", "{\"ts\":1.5,...}"]}

Frames are decoded as UTF-8 with surrogateescape, so no byte is lost: encode
them back with ("utf-8", "surrogateescape") to get the exact bytes.

Once bound or connected (and subscribed), it creates the --ready file, so a
test can wait for it instead of sleeping; with --ready-on-message only when
the first message has arrived, i.e. when Zeek's socket certainly has the
subscription (what a test of a bound endpoint waits for). It stops, exit
status 0, at the first of:
  --count N           N messages received;
  --until-file FILE   FILE exists (the test creates it when Zeek has exited)
                      and no message arrived for --grace seconds;
  --idle SECONDS      no message arrived for that long (since the start or
                      the last message).
If --deadline seconds pass first, it stops with exit status 3 and says why.
"""

import argparse
import json
import os
import sys
import time

try:
    import zmq
except ImportError:
    sys.exit("zmq-sub.py: the Python module 'zmq' is missing: pip install pyzmq")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--bind", help="endpoint to bind, e.g. tcp://127.0.0.1:5555")
    where.add_argument("--connect", help="endpoint to connect to (Zeek binds it)")
    p.add_argument("--out", required=True, help="file the messages are appended to")
    p.add_argument("--ready", help="file created once the socket is bound or connected")
    p.add_argument("--ready-on-message", action="store_true",
                   help="create --ready when the first message arrives instead")
    p.add_argument("--count", type=int, help="stop after this many messages")
    p.add_argument("--until-file", help="stop once this file exists and --grace passed quietly")
    p.add_argument("--grace", type=float, default=2.0,
                   help="quiet seconds needed after --until-file appears (default 2)")
    p.add_argument("--idle", type=float, help="stop after this many seconds without a message")
    p.add_argument("--deadline", type=float, default=120.0,
                   help="give up (exit 3) after this many seconds (default 120)")
    p.add_argument("--curve-server-key", metavar="FILE",
                   help="be a CURVE server with the secret key in FILE (Z85)")
    p.add_argument("--curve-server-public", metavar="FILE",
                   help="be a CURVE client of the server whose public key is in FILE")
    p.add_argument("--curve-key", metavar="NAME",
                   help="with --curve-server-public: our key pair NAME.key/NAME.pub")
    p.add_argument("--subscribe", action="append", default=None,
                   help="subscription prefix (repeatable; default: everything)")
    args = p.parse_args()
    if args.count is None and args.until_file is None and args.idle is None:
        p.error("give at least one of --count, --until-file, --idle")
    if args.ready_on_message and not args.ready:
        p.error("--ready-on-message needs --ready")
    return args


def read_key(path):
    """The Z85 key in a key file (the first line that is not a comment)."""
    with open(path) as f:
        return next(l.strip() for l in f if l.strip() and not l.startswith("#")).encode()


def create_ready(args, endpoint):
    with open(args.ready, "w") as f:
        f.write(f"{os.getpid()} {endpoint}\n")


def main():
    args = parse_args()

    ctx = zmq.Context()
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, 0)  # never drop on our side
    sock.setsockopt(zmq.LINGER, 0)
    if args.curve_server_key:
        sock.curve_server = True
        sock.curve_secretkey = read_key(args.curve_server_key)
    if args.curve_server_public:
        sock.curve_serverkey = read_key(args.curve_server_public)
        if args.curve_key:
            sock.curve_publickey = read_key(args.curve_key + ".pub")
            sock.curve_secretkey = read_key(args.curve_key + ".key")
        else:
            sock.curve_publickey, sock.curve_secretkey = zmq.curve_keypair()
    for prefix in args.subscribe or [""]:
        sock.setsockopt(zmq.SUBSCRIBE, prefix.encode("utf-8", "surrogateescape"))

    endpoint = args.bind or args.connect
    try:
        if args.bind:
            sock.bind(endpoint)
        else:
            sock.connect(endpoint)
    except zmq.ZMQError as e:
        sys.exit(f"zmq-sub.py: cannot {'bind' if args.bind else 'connect to'} {endpoint}: {e}")

    if args.ready and not args.ready_on_message:
        create_ready(args, endpoint)

    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)

    start = time.monotonic()
    last = start
    received = 0
    done_seen_at = None
    status = 0
    reason = ""

    with open(args.out, "a", encoding="utf-8") as out:
        while True:
            now = time.monotonic()

            if args.count is not None and received >= args.count:
                reason = f"received {received} of {args.count} messages"
                break

            if args.until_file and done_seen_at is None and os.path.exists(args.until_file):
                done_seen_at = now

            if done_seen_at is not None and now - max(last, done_seen_at) >= args.grace:
                reason = f"{args.until_file} exists and nothing arrived for {args.grace}s"
                break

            if args.idle is not None and now - last >= args.idle:
                reason = f"nothing arrived for {args.idle}s"
                break

            if now - start >= args.deadline:
                status = 3
                waiting = []
                if args.count is not None:
                    waiting.append(f"{args.count} messages (got {received})")
                if args.until_file and done_seen_at is None:
                    waiting.append(f"{args.until_file} to appear")
                reason = (f"deadline of {args.deadline}s reached while waiting for "
                          + " and ".join(waiting or ["a quiet period"]))
                break

            if not poller.poll(100):
                continue

            while True:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                received += 1
                last = time.monotonic()
                if received == 1 and args.ready_on_message:
                    create_ready(args, endpoint)
                decoded = [f.decode("utf-8", "surrogateescape") for f in frames]
                out.write(json.dumps({"frames": decoded}) + "\n")
                if args.count is not None and received >= args.count:
                    break
            out.flush()

    sock.close()
    ctx.term()

    print(f"zmq-sub.py: {endpoint}: {received} messages; stopped: {reason}",
          file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
