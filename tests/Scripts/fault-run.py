#!/usr/bin/env python3
"""One run of the fault suite: Zeek publishes while its subscriber fails.

    fault-run.py --mode connect|bind --policy drop|block
                 --situation absent|killed|restarted|hung|stopped
                 --port PORT [--sigterm] [options]

Runs, in the current directory, Zeek with Files/fault-writer.zeek (it writes
--records records to the path "fault", paced, publishes them and writes
fault.log, then calls terminate(), or with --sigterm waits for the SIGTERM
this script sends once all are written) against a subscriber that, after
receiving --after records:

  absent     was never there;
  killed     is killed (SIGKILL);
  restarted  is killed, and a new one takes its place at once;
  hung       stays connected and never reads again (its ZeroMQ I/O thread
             runs: it answers heartbeats);
  stopped    is SIGSTOPped (no heartbeats either).

In connect mode (Zeek's default) the subscriber binds and Zeek connects; in
bind mode (LogZeroMQ::bind) Zeek binds. Then it checks the promise of the
README's Delivery section:

  - Zeek exits with status 0, within --exit-bound seconds of terminate() or
    of the SIGTERM;
  - the writer printed its totals line, and sent + dropped there equals
    the records Zeek handed to the writer: Zeek's own counter
    (zeek_log_writer_writes_total) and the line count of fault.log. (A
    writer that dropped nothing prints no totals: then, Zeek having exited
    normally, which it does only once every writer's DoFinish ran, all
    were sent.)
  - "sent but not received" (sent minus what the subscribers' processes
    read) is between 0 and --max-lost; a record counted dropped may still
    have arrived only as the writer's close describes (at most one per
    connection: --max-extra).

The default --max-lost is what the writer counts as sent today although a
subscriber that dies or hangs never reads it: what the kernel's send buffer
holds (up to net.ipv4.tcp_wmem's maximum), what the subscriber's kernel and
ZeroMQ queue took (its 16 KiB SO_RCVBUF, doubled by Linux, and 10
messages), and, in bind mode, the zmq_hwm messages libzmq queued for a
subscriber whose connection closed; in records of this run's size. With no
subscriber ever (absent) it is 0.

What it measured goes to fault.json in the current directory and, if the
environment variable FAULT_RESULTS names a file, is appended to it as one
JSON line (Scripts/fault-table.py turns those into a Markdown table).

Exits 0 if every check passed, 1 if not (saying which), 2 on a usage error.
Every wait has a deadline; Zeek is killed if it runs longer than --deadline.

Also the subscriber itself, run by the above in a process of its own:

    fault-run.py subscribe (--bind|--connect) EP --counts FILE --ready FILE
                 [--after N --then stall|wait] --until-file FILE
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

SITUATIONS = ["absent", "killed", "restarted", "hung", "stopped"]


# ---------------------------------------------------------------- subscriber

def write_count(path, n):
    """Replaces `path` with the number n (atomically: the reader never sees
    a partial file)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{n}\n")
    os.replace(tmp, path)


def subscribe(argv):
    """A SUB socket that counts the records of path "fault" it reads, in
    --counts (after each batch of messages and when it stops). With --after
    N it reads exactly N, writes the count, and then stalls: `stall` keeps
    its socket alive but never reads, `wait` sleeps (to be killed or
    SIGSTOPped). It stops when --until-file exists (after a quiet --grace
    seconds, if it still reads) or after --deadline seconds."""
    import zmq

    p = argparse.ArgumentParser(prog="fault-run.py subscribe")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--bind")
    where.add_argument("--connect")
    p.add_argument("--counts", required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--after", type=int)
    p.add_argument("--then", choices=["stall", "wait"], default="stall")
    p.add_argument("--until-file", required=True)
    p.add_argument("--grace", type=float, default=0.5)
    p.add_argument("--deadline", type=float, default=60.0)
    args = p.parse_args(argv)

    ctx = zmq.Context()
    sock = ctx.socket(zmq.SUB)
    # Small queues on this side, as zmq-stall-sub.py has: what a stalled
    # subscriber's process holds unread is little, so that what the writer
    # counted as sent and nobody read is mostly on Zeek's side.
    sock.setsockopt(zmq.RCVHWM, 10)
    sock.setsockopt(zmq.RCVBUF, 16384)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    if args.bind:
        sock.bind(args.bind)
    else:
        sock.connect(args.connect)
    write_count(args.counts, 0)
    with open(args.ready, "w") as f:
        f.write(f"{os.getpid()}\n")

    start = time.monotonic()
    n = 0
    quiet_since = None
    while time.monotonic() - start < args.deadline:
        if args.after is not None and n >= args.after:
            break
        if sock.poll(50):
            while args.after is None or n < args.after:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if frames[0] == b"fault":
                    n += 1
            write_count(args.counts, n)
            quiet_since = None
        elif os.path.exists(args.until_file):
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= args.grace:
                break
    write_count(args.counts, n)
    if args.after is not None and n >= args.after:
        with open(f"{args.counts}.stalled", "w") as f:
            f.write("stalled\n")
        while not os.path.exists(args.until_file) and time.monotonic() - start < args.deadline:
            if args.then == "stall":
                # Housekeeping only (as a hung consumer's event loop might
                # do): libzmq keeps the connection and answers heartbeats.
                sock.getsockopt(zmq.EVENTS)
            time.sleep(0.05)
    sock.close()
    ctx.term()
    return 0


# ---------------------------------------------------------------- driver

def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.01)


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


class Subscriber:
    def __init__(self, name, endpoint, bind, after=None, then="stall"):
        self.name = name
        self.counts = f"{name}.count"
        self.ready = f"{name}.ready"
        for f in (self.counts, self.ready, f"{self.counts}.stalled"):
            if os.path.exists(f):
                os.remove(f)
        cmd = [sys.executable, os.path.abspath(__file__), "subscribe",
               "--bind" if bind else "--connect", endpoint,
               "--counts", self.counts, "--ready", self.ready,
               "--until-file", "zeek.done"]
        if after is not None:
            cmd += ["--after", str(after), "--then", then]
        self.out = open(f"{name}.log", "w")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(self.ready) or self.proc.poll() is not None,
                 20, f"subscriber {name} to be ready")
        if self.proc.poll() is not None:
            raise RuntimeError(f"subscriber {name} exited with {self.proc.returncode}: "
                               + open(f"{name}.log").read())

    def stalled(self):
        return os.path.exists(f"{self.counts}.stalled")

    def received(self):
        return read_int(self.counts)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait(10)

    def stop(self, timeout=20):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def default_max_lost(args, record_bytes):
    """See the module comment."""
    if args.situation == "absent":
        return 0
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            wmem_max = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        wmem_max = 4 << 20
    kernel = wmem_max + 2 * 16384 + 8192
    queued = args.hwm if args.mode == "bind" else 0
    return queued + -(-kernel // record_bytes) + 10 + 1


def totals(stderr, path):
    """The writer's totals line for `path` and its numbers."""
    m = re.search(path + r"/Log::WRITER_ZEROMQ: published (\d+) of (\d+) records?, "
                  r"dropped (\d+) \(([^)]*)\)", stderr)
    if not m:
        return None
    reasons = {}
    for part in m.group(4).split(", "):
        count, _, why = part.partition(" ")
        if count.isdigit():
            reasons[why] = int(count)
    return {"line": m.group(0), "sent": int(m.group(1)), "written": int(m.group(2)),
            "dropped": int(m.group(3)), "reasons": reasons}


def run(args):
    endpoint = f"tcp://127.0.0.1:{args.port}"
    bind = args.mode == "bind"
    for f in ("zeek.done", "all-written", "fault.log"):
        if os.path.exists(f):
            os.remove(f)

    subs = []
    if args.situation != "absent":
        then = "stall" if args.situation == "hung" else "wait"
        # In connect mode the subscriber binds before Zeek connects; in bind
        # mode it connects, retrying until Zeek has bound.
        subs.append(Subscriber("sub", endpoint, not bind, args.after, then))

    redefs = [f"LogZeroMQ::zmq_linger={args.linger_ms}", f"LogZeroMQ::zmq_hwm={args.hwm}",
              f"LogZeroMQ::overflow_policy=LogZeroMQ::{args.policy.upper()}",
              f"Fault::records={args.records}"]
    if bind:
        redefs.append("LogZeroMQ::bind=T")
    if args.sigterm:
        redefs.append("Fault::sigterm=T")
    files = os.environ.get("FILES", os.path.join(os.path.dirname(__file__), "..", "Files"))
    cmd = ["zeek", "-b", "NCSA::ZeroMQWriter", os.path.join(files, "zmq-endpoint.zeek"),
           os.path.join(files, "fault-writer.zeek")] + redefs
    env = dict(os.environ, ZMQ_PORT=f"{args.port}/tcp")
    zout, zerr = open("zeek.out", "w"), open("zeek.err", "w")
    started = time.time()
    zeek = subprocess.Popen(cmd, stdout=zout, stderr=zerr, env=env)

    problems = []
    sigterm_at = None
    try:
        if subs:
            first = subs[0]
            wait_for(lambda: first.stalled() or zeek.poll() is not None, args.deadline,
                     f"the subscriber to receive {args.after} records")
            if zeek.poll() is not None:
                raise RuntimeError("Zeek exited before the subscriber received "
                                   f"{args.after} records")
            if args.situation in ("killed", "restarted"):
                first.kill()
            if args.situation == "restarted":
                subs.append(Subscriber("sub2", endpoint, not bind))
            if args.situation == "stopped":
                first.proc.send_signal(signal.SIGSTOP)
        if args.sigterm:
            wait_for(lambda: os.path.exists("all-written") or zeek.poll() is not None,
                     args.deadline, "Zeek to write every record")
            # Zeek's writer is blocked now (a hung subscriber, BLOCK): the
            # SIGTERM must end Zeek all the same.
            sigterm_at = time.time()
            zeek.send_signal(signal.SIGTERM)
        remaining = args.deadline - (time.time() - started)
        zeek.wait(max(remaining, 1))
    except (TimeoutError, subprocess.TimeoutExpired, RuntimeError) as e:
        problems.append(str(e))
    finally:
        if zeek.poll() is None:
            problems.append(f"Zeek still ran after {args.deadline:.0f}s; killed it")
            zeek.kill()
            zeek.wait()
    exited = time.time()
    zout.close()
    zerr.close()
    open("zeek.done", "w").close()
    for s in subs:
        if s.proc.poll() is None and (args.situation in ("hung", "stopped") and s is subs[0]):
            s.kill()
        s.stop()

    out = open("zeek.out").read()
    err = open("zeek.err").read()
    m = re.search(r"^terminate at ([0-9.]+)$", out, re.M)
    ended = sigterm_at if args.sigterm else (float(m.group(1)) if m else None)
    m = re.search(r"^written ([0-9]+)$", out, re.M)
    zeek_writes = int(m.group(1)) if m else None
    try:
        with open("fault.log", "rb") as f:
            log_lines = sum(1 for _ in f)
    except FileNotFoundError:
        log_lines = None
    t = totals(err, "fault")
    if t is None and zeek.returncode == 0 and zeek_writes is not None:
        t = {"line": None, "sent": zeek_writes, "written": zeek_writes, "dropped": 0,
             "reasons": {}}
    received = sum(s.received() for s in subs)
    record_bytes = 0
    try:
        with open("fault.log", "rb") as f:
            record_bytes = len(f.readline())
    except FileNotFoundError:
        pass
    max_lost = args.max_lost if args.max_lost is not None else \
        default_max_lost(args, max(record_bytes, 1))
    result = {
        "mode": args.mode, "policy": args.policy, "situation": args.situation,
        "end": "SIGTERM" if args.sigterm else "terminate()",
        "records": args.records, "zeek_writes": zeek_writes, "log_lines": log_lines,
        "sent": t and t["sent"], "dropped": t and t["dropped"],
        "reasons": t and t["reasons"], "totals_line": bool(t and t["line"]),
        "received": received, "max_lost": max_lost,
        "exit_seconds": None if ended is None else round(exited - ended, 2),
        "zeek_status": zeek.returncode,
    }

    if zeek.returncode != 0:
        problems.append(f"Zeek exited with status {zeek.returncode}")
    if zeek_writes != args.records or log_lines != args.records:
        problems.append(f"Zeek handed {zeek_writes} records to the writer and fault.log has "
                        f"{log_lines} lines; {args.records} were written")
    if t is None:
        problems.append("no totals line for the path fault in Zeek's stderr (and Zeek "
                        "did not exit normally)")
    else:
        if t["written"] != zeek_writes or t["sent"] + t["dropped"] != zeek_writes:
            problems.append(f"the totals count {t['written']} written, {t['sent']} sent + "
                            f"{t['dropped']} dropped; Zeek handed {zeek_writes}")
        if sum(t["reasons"].values()) != t["dropped"]:
            problems.append(f"the drop reasons do not add up: {t['line']}")
        lost = t["sent"] - received
        result["lost"] = lost
        if lost > max_lost:
            problems.append(f"{lost} records counted as sent were not received "
                            f"(at most {max_lost} may be)")
        if -lost > args.max_extra:
            problems.append(f"{-lost} more records were received than counted as sent "
                            f"(at most {args.max_extra} may be)")
    if ended is None:
        problems.append("no \"terminate at\" line in Zeek's stdout")
    elif exited - ended > args.exit_bound:
        problems.append(f"Zeek exited {exited - ended:.2f}s after "
                        f"{'the SIGTERM' if args.sigterm else 'terminate()'}; "
                        f"the bound is {args.exit_bound}s")

    result["ok"] = not problems
    result["problems"] = problems
    with open("fault.json", "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    if os.environ.get("FAULT_RESULTS"):
        with open(os.environ["FAULT_RESULTS"], "a") as f:
            f.write(json.dumps(result) + "\n")
    print(json.dumps(result))
    if problems:
        text = "fault-run.py: " + "; ".join(problems) + "\n"
        sys.stderr.write(text)
        sys.stderr.write(err)
        if os.environ.get("TEST_DIAGNOSTICS"):
            with open(os.environ["TEST_DIAGNOSTICS"], "a") as f:
                f.write(text)
        return 1
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "subscribe":
        return subscribe(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=["connect", "bind"], required=True)
    p.add_argument("--policy", choices=["drop", "block"], required=True)
    p.add_argument("--situation", choices=SITUATIONS, required=True)
    p.add_argument("--port", required=True, help="TCP port (a btest @TEST-PORT value)")
    p.add_argument("--sigterm", action="store_true",
                   help="end Zeek with SIGTERM once all records are written")
    p.add_argument("--records", type=int, default=5000)
    p.add_argument("--after", type=int, default=500,
                   help="records the subscriber reads before its fault")
    p.add_argument("--linger-ms", type=int, default=1000, help="LogZeroMQ::zmq_linger")
    p.add_argument("--exit-bound", type=float, default=3.0,
                   help="seconds from terminate() (or SIGTERM) to Zeek's exit")
    p.add_argument("--max-lost", type=int,
                   help="records counted as sent that may not have been received "
                        "(default: see above)")
    p.add_argument("--hwm", type=int, default=1000, help="LogZeroMQ::zmq_hwm")
    p.add_argument("--max-extra", type=int, default=1,
                   help="records counted as dropped that may have been received")
    p.add_argument("--deadline", type=float, default=25.0)
    args = p.parse_args()
    args.port = str(args.port).split("/")[0]
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
