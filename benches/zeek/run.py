#!/usr/bin/env python3
"""The in-Zeek benchmark of record: the CPU per record of Zeek's ASCII JSON
writer and of this writer over Zeek's None writer, beside the transport
floor (bare libzmq sending the same bytes), measured in the same run.

    benches/zeek/run.py [--reps 5] [--sizes conn,1k,10k] [--streams 1,5]
                        [--pin-sub 1] [--pin-measured 0] [--json-out FILE]
    benches/zeek/run.py --report FILE

Needs `zeek` on PATH with the plugin (install it, or set ZEEK_PLUGIN_PATH to
build/), and builds the two Rust programs it uses (`cargo build --release
--example zmq-count --example zmq-floor`).

For every configuration (record size x number of streams):

1. Capture: a zeromq run and a zeromq-1f run whose subscribers save the
   first messages, and a json run; the captured JSON frames must equal the
   first lines of the log files byte for byte (the floor then sends exactly
   what the writer sends), and the one-frame messages those lines with
   `"_path":"<path>",` inserted after the `{`. These runs also warm up the
   caches; they are not measured.
2. --reps repetitions, each running every variant once, in an order that
   rotates by one each repetition:
   - none: bench.zeek with Log::WRITER_NONE (Zeek's logging framework and
     writer threads, with a writer that does nothing);
   - json: Zeek's ASCII writer with use_json (a file in a scratch dir);
   - zeromq: this writer, hwm 0, linger -1, to a subscriber;
   - zeromq-1f: the same with message_format JSON_WITH_PATH (one frame
     per record, `{"_path":"<path>",...}`, instead of `[path, json]`);
   - floor, floor-zc, floor-const: zmq-floor sending the captured messages
     (cycled to the same count) with zmq_send, with the JSON frame zero-copy
     as the writer sends it, and with zmq_send_const (see floor.rs), from as
     many threads, contexts and sockets as there are streams (as the
     writers have); with several streams also floor-1s: one socket;
   - floor0: zmq-floor sending nothing (its start-up, subtracted).
   A subscriber (zmq-count, a Rust SUB socket counting messages) is bound
   before each zeromq and floor run starts, and the run fails unless it
   received exactly n messages of two frames (one for zeromq-1f), n /
   streams per path.

Each run's CPU is the user + system time of the measured process and all its
threads (libzmq's I/O threads included) from wait4(); wall time is from
spawning it to its exit. Zeek exits after its writers finished (linger -1:
every message written to the connection), zmq-floor after its contexts
terminated (the same). Per repetition:

    writer CPU/record = (writer CPU - none CPU) / n
    floor CPU/record  = (floor CPU - floor0 CPU) / n
    ratio             = zeromq CPU/record / floor CPU/record
    1f / 2f           = zeromq-1f CPU/record / zeromq CPU/record

and the tables give the median over repetitions and [min-max]. The load
of the rest of the machine during each repetition (busy CPU from /proc/stat
minus the measured processes and the subscribers, in cores) and the steal
time are given too: other work on the machine makes the numbers move.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(HERE, "bench.zeek")
EXAMPLES = os.path.join(ROOT, "target", "release", "examples")
COUNT = os.path.join(EXAMPLES, "zmq-count")
FLOOR = os.path.join(EXAMPLES, "zmq-floor")

# Record sizes: padding characters added to the conn-like record (about
# 400 bytes of JSON alone), the default record count, and how many messages
# the floor's capture holds (it sends them in a cycle).
SIZES = {
    "conn": (0, 500_000, 4096),
    "1k": (590, 500_000, 4096),
    "10k": (9590, 100_000, 1024),
}

HZ = os.sysconf("SC_CLK_TCK")


def cpu_ticks():
    """(busy, steal) seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v[:8]
    return (user + nice + system + irq + softirq) / HZ, steal / HZ


def taskset(cpus):
    return ["taskset", "-c", cpus] if cpus else []


class Subscriber:
    """zmq-count bound to the endpoint, ready when the constructor returns."""

    def __init__(self, args, expect, frames=2, capture=None, capture_max=0, idle_ms=300):
        cmd = taskset(args.pin_sub) + [
            COUNT,
            "--endpoint",
            args.endpoint,
            "--expect",
            str(expect),
            "--frames",
            str(frames),
            "--idle-ms",
            str(idle_ms),
        ]
        if capture:
            cmd += ["--capture", capture, "--capture-max", str(capture_max)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            sys.exit(f"zmq-count did not start: {line!r}")

    def result(self):
        """The counts (a dict) and the subscriber's CPU seconds."""
        out = self.proc.stdout.read()
        _, status, ru = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        counts = json.loads(out.strip().splitlines()[-1])
        return counts, ru.ru_utime + ru.ru_stime


def measure(cmd, cwd, pin):
    """Runs cmd; returns (cpu, user, sys, wall, machine busy, steal)."""
    busy0, steal0 = cpu_ticks()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        taskset(pin) + cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    busy1, steal1 = cpu_ticks()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    if proc.returncode != 0:
        sys.exit(
            f"{' '.join(cmd)}: exit {proc.returncode}\n{out.decode()}{err.decode()}"
        )
    return {
        "cpu": ru.ru_utime + ru.ru_stime,
        "user": ru.ru_utime,
        "sys": ru.ru_stime,
        "wall": wall,
        "busy": busy1 - busy0,
        "steal": steal1 - steal0,
    }


def zeek_cmd(writer, cfg, args):
    return [
        "zeek",
        "-b",
        "NCSA::ZeroMQWriter",
        SCRIPT,
        "-e",
        f'redef Bench::n = {cfg["n"]}; redef Bench::writer = "{writer}"; '
        f'redef Bench::streams = {cfg["streams"]}; redef Bench::pad = {cfg["pad"]}; '
        f'redef Bench::endpoint = "{args.endpoint}";',
    ]


def floor_cmd(mode, sockets, n, capture, args):
    return [
        FLOOR,
        "--endpoint",
        args.endpoint,
        "--n",
        str(n),
        "--capture",
        capture,
        "--sockets",
        str(sockets),
        "--mode",
        mode,
    ]


def paths(streams):
    return ["bench"] + [f"bench{s}" for s in range(2, streams + 1)]


def check_counts(name, counts, cfg):
    n, streams = cfg["n"], cfg["streams"]
    want = {p: n // streams + (i < n % streams) for i, p in enumerate(paths(streams))}
    if counts["messages"] != n or counts["bad"] or counts["paths"] != want:
        sys.exit(f"{name}: the subscriber received {counts}, expected {want}")


def read_frames(path):
    """The frames of a zmq-count capture file, in order."""
    with open(path, "rb") as f:
        data = f.read()
    frames, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "little")
        frames.append(data[at + 4 : at + 4 + size])
        at += 4 + size
    return frames


def read_capture(path):
    """The (path, json) messages of a two-frame capture file."""
    frames = read_frames(path)
    return list(zip(frames[0::2], frames[1::2]))


# The writers captured, with the frames per message of each.
FORMATS = {"zeromq": 2, "zeromq-1f": 1}


def capture(cfg, args, workdir):
    """Captures the writer's messages in both formats and checks them
    against the ASCII writer's JSON; returns the two-frame capture file (what
    the floor sends) and the mean size of the JSON frame per writer."""
    caps, sizes = {}, {}
    for writer, frames in FORMATS.items():
        caps[writer] = os.path.join(workdir, f'capture-{cfg["label"]}-{writer}.bin')
        sub = Subscriber(args, cfg["n"], frames, caps[writer], cfg["capture"])
        with tempfile.TemporaryDirectory(dir=workdir) as tmp:
            measure(zeek_cmd(writer, cfg, args), tmp, args.pin_measured)
        counts, _ = sub.result()
        check_counts(f"capture {writer}", counts, cfg)
        sizes[writer] = counts["bytes"] / counts["messages"]
    two = read_capture(caps["zeromq"])
    one = read_frames(caps["zeromq-1f"])
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        measure(zeek_cmd("json", cfg, args), tmp, args.pin_measured)
        for p in paths(cfg["streams"]):
            prefix = b'{"_path":"%s",' % p.encode()
            mine = [j for q, j in two if q.decode() == p]
            mine_1f = [m for m in one if m.startswith(prefix)]
            with open(os.path.join(tmp, f"{p}.log"), "rb") as f:
                lines = [f.readline().rstrip(b"\n") for _ in range(cfg["capture"])]
            if not mine or lines[: len(mine)] != mine:
                sys.exit(f"{p}: the writer's JSON differs from the ASCII writer's")
            with_path = [prefix + line[1:] for line in lines[: len(mine_1f)]]
            if not mine_1f or with_path != mine_1f:
                sys.exit(f"{p}: the one-frame JSON differs from the ASCII writer's with _path")
    return caps["zeromq"], sizes


def variants(cfg):
    """(name, kind, mode, sockets) of every run of a repetition."""
    s = cfg["streams"]
    v = [
        ("none", "zeek", "none", 0),
        ("json", "zeek", "json", 0),
        ("zeromq", "zeek", "zeromq", 0),
        ("zeromq-1f", "zeek", "zeromq-1f", 0),
        ("floor", "floor", "copy", s),
        ("floor-zc", "floor", "zc", s),
        ("floor-const", "floor", "const", s),
    ]
    if s > 1:
        v.append(("floor-1s", "floor", "copy", 1))
    v.append(("floor0", "floor", "copy", s))
    return v


def run_variant(var, cfg, cap, args, workdir):
    name, kind, mode, sockets = var
    n = 0 if name == "floor0" else cfg["n"]
    sub = None
    if kind == "floor" or mode in FORMATS:
        # floor0 sends nothing: the subscriber waits a second for nothing.
        frames = FORMATS.get(mode, 2)
        sub = Subscriber(args, n, frames, idle_ms=1000 if n == 0 else 300)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        if kind == "zeek":
            cmd = zeek_cmd(mode, cfg, args)
        else:
            cmd = floor_cmd(mode, sockets, n, cap, args)
        r = measure(cmd, tmp, args.pin_measured)
    r["sub_cpu"] = 0.0
    if sub:
        counts, r["sub_cpu"] = sub.result()
        if n:
            check_counts(f'{cfg["label"]} {name}', counts, cfg)
        r["received"] = counts["messages"]
    # The rest of the machine, in cores, during the run (coarse: /proc/stat
    # counts 10 ms ticks).
    r["other"] = (r["busy"] - r["cpu"] - r["sub_cpu"]) / r["wall"]
    return r


def med(xs):
    return statistics.median(xs)


def spread(xs, fmt="{:.2f}"):
    """median [min-max]"""
    return f"{fmt.format(med(xs))} [{fmt.format(min(xs))}-{fmt.format(max(xs))}]"


def summarize(cfg, runs):
    """Per-repetition derived numbers (µs per record, ratios)."""
    n = cfg["n"]
    us = 1e6 / n
    reps = range(len(runs["none"]))
    s = {}
    for w in ("json", "zeromq", "zeromq-1f"):
        s[w] = [(runs[w][r]["cpu"] - runs["none"][r]["cpu"]) * us for r in reps]
        s[w + "_wall"] = [runs[w][r]["wall"] / runs["none"][r]["wall"] for r in reps]
    for f in [v[0] for v in variants(cfg) if v[1] == "floor" and v[0] != "floor0"]:
        s[f] = [(runs[f][r]["cpu"] - runs["floor0"][r]["cpu"]) * us for r in reps]
    s["none"] = [runs["none"][r]["cpu"] * us for r in reps]
    s["ratio"] = [s["zeromq"][r] / s["floor"][r] for r in reps]
    s["ratio_zc"] = [s["zeromq"][r] / s["floor-zc"][r] for r in reps]
    s["ratio_1f"] = [s["zeromq-1f"][r] / s["zeromq"][r] for r in reps]
    s["sub"] = [runs["zeromq"][r]["sub_cpu"] * us for r in reps]
    s["floor0_ms"] = [runs["floor0"][r]["cpu"] * 1e3 for r in reps]
    # The rest of the machine per repetition (all its runs together: /proc/stat
    # counts in 10 ms ticks, too coarse for one short run), in cores.
    s["other"], s["steal"] = [], []
    for r in reps:
        rep = [v[r] for v in runs.values()]
        wall = sum(x["wall"] for x in rep)
        s["other"].append(sum(x["busy"] - x["cpu"] - x["sub_cpu"] for x in rep) / wall)
        s["steal"].append(sum(x["steal"] for x in rep) / wall)
    return s


def print_tables(results):
    print("\nCPU µs per record (whole process), median [min-max] over repetitions")
    print(
        "| records | streams | n | JSON B | None | json over None | "
        "**zeromq over None** | floor | floor-zc | floor-const | "
        "**zeromq / floor** | zeromq / floor-zc |"
    )
    print("|---" * 12 + "|")
    for res in results:
        cfg, s = res["cfg"], res["summary"]
        print(
            f'| {cfg["label"]} | {cfg["streams"]} | {cfg["n"]:,} | {res["bytes"]:.0f} '
            f'| {spread(s["none"])} | {spread(s["json"])} | **{spread(s["zeromq"])}** '
            f'| {spread(s["floor"])} | {spread(s["floor-zc"])} | {spread(s["floor-const"])} '
            f'| **{spread(s["ratio"])}x** | {spread(s["ratio_zc"])}x |'
        )
    multi = [r for r in results if "floor-1s" in r["summary"]]
    if multi:
        print("\nSeveral streams, the floor from one socket (one thread, one context)")
        print("| records | streams | floor (S sockets) | floor-1s | zeromq / floor-1s |")
        print("|---" * 5 + "|")
        for res in multi:
            cfg, s = res["cfg"], res["summary"]
            ratio = [z / f for z, f in zip(s["zeromq"], s["floor-1s"])]
            print(
                f'| {cfg["label"]} | {cfg["streams"]} | {spread(s["floor"])} '
                f'| {spread(s["floor-1s"])} | {spread(ratio)}x |'
            )
    print("\nWall time vs None, received, machine")
    print(
        "| records | streams | None wall s | json / None | **zeromq / None** | "
        "received | subscriber µs/record | floor0 ms | other load (cores) | steal (cores) |"
    )
    print("|---" * 10 + "|")
    for res in results:
        cfg, s, runs = res["cfg"], res["summary"], res["runs"]
        received = min(r["received"] for r in runs["zeromq"])
        print(
            f'| {cfg["label"]} | {cfg["streams"]} '
            f'| {spread([r["wall"] for r in runs["none"]])} '
            f'| {spread(s["json_wall"], "{:.3f}")} | **{spread(s["zeromq_wall"], "{:.3f}")}** '
            f'| {received:,}/{cfg["n"]:,} x {len(runs["zeromq"])} | {spread(s["sub"])} '
            f'| {spread(s["floor0_ms"], "{:.0f}")} | {spread(s["other"])} '
            f'| {spread(s["steal"], "{:.3f}")} |'
        )
    one_frame = [r for r in results if "ratio_1f" in r["summary"]]
    if one_frame:
        print("\nOne frame (zeromq-1f, JSON_WITH_PATH) vs two frames (zeromq), same runs")
        print(
            "| records | streams | JSON B 2f / 1f | zeromq over None | "
            "zeromq-1f over None | **1f / 2f** | wall / None 2f | wall / None 1f | "
            "received 1f |"
        )
        print("|---" * 9 + "|")
        for res in one_frame:
            cfg, s, runs = res["cfg"], res["summary"], res["runs"]
            received = min(r["received"] for r in runs["zeromq-1f"])
            print(
                f'| {cfg["label"]} | {cfg["streams"]} '
                f'| {res["bytes"]:.0f} / {res["bytes_1f"]:.0f} '
                f'| {spread(s["zeromq"])} | {spread(s["zeromq-1f"])} '
                f'| **{spread(s["ratio_1f"])}x** '
                f'| {spread(s["zeromq_wall"], "{:.3f}")} '
                f'| {spread(s["zeromq-1f_wall"], "{:.3f}")} '
                f'| {received:,}/{cfg["n"]:,} x {len(runs["zeromq-1f"])} |'
            )


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sizes", default="conn,1k,10k", help=f"of {','.join(SIZES)}")
    ap.add_argument("--streams", default="1,5", help="stream counts (1-5)")
    ap.add_argument(
        "--n", action="append", default=[], help="SIZE=RECORDS, e.g. conn=200000"
    )
    ap.add_argument("--endpoint", default="tcp://127.0.0.1:5599")
    ap.add_argument("--pin-sub", help="taskset CPU list for the subscriber")
    ap.add_argument("--pin-measured", help="taskset CPU list for Zeek and zmq-floor")
    ap.add_argument("--json-out", help="write every run's numbers here")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--report", metavar="FILE", help="print the tables of a --json-out file")
    args = ap.parse_args()

    if args.report:
        with open(args.report) as f:
            print_tables(json.load(f)["results"])
        return

    if not args.no_build:
        subprocess.run(
            ["cargo", "build", "--release", "--quiet"]
            + ["--example", "zmq-count", "--example", "zmq-floor"],
            cwd=ROOT,
            check=True,
        )
    if subprocess.run(["zeek", "-N", "NCSA::ZeroMQWriter"], capture_output=True).returncode:
        sys.exit("zeek -N NCSA::ZeroMQWriter fails: install the plugin or set ZEEK_PLUGIN_PATH")

    counts = dict(SIZES)
    for kv in args.n:
        size, n = kv.split("=")
        counts[size] = (SIZES[size][0], int(n), SIZES[size][2])
    configs = []
    for streams in [int(s) for s in args.streams.split(",")]:
        for size in args.sizes.split(","):
            pad, n, cap = counts[size]
            configs.append(
                {"label": size, "pad": pad, "n": n, "streams": streams, "capture": cap}
            )

    results = []
    with tempfile.TemporaryDirectory(prefix="zeek-bench-") as workdir:
        for cfg in configs:
            cap, sizes = capture(cfg, args, workdir)
            print(
                f'\n== {cfg["label"]} records ({sizes["zeromq"]:.0f} B of JSON, '
                f'{sizes["zeromq-1f"]:.0f} B in one frame), '
                f'{cfg["streams"]} stream(s), n = {cfg["n"]:,}',
                flush=True,
            )
            vs = variants(cfg)
            runs = {v[0]: [] for v in vs}
            for rep in range(args.reps):
                k = rep % len(vs)
                for var in vs[k:] + vs[:k]:
                    r = run_variant(var, cfg, cap, args, workdir)
                    runs[var[0]].append(r)
                    print(
                        f'rep {rep + 1} {var[0]:11} cpu {r["cpu"]:6.3f} s '
                        f'(user {r["user"]:.3f} sys {r["sys"]:.3f}) '
                        f'wall {r["wall"]:6.3f} s  sub {r["sub_cpu"]:.3f} s  '
                        f'other {r["other"]:.2f} steal {r["steal"]:.2f}',
                        flush=True,
                    )
            results.append(
                {
                    "cfg": cfg,
                    "bytes": sizes["zeromq"],
                    "bytes_1f": sizes["zeromq-1f"],
                    "runs": runs,
                    "summary": summarize(cfg, runs),
                }
            )

    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"\nload average at the end: {' '.join(load)}")
    print_tables(results)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
