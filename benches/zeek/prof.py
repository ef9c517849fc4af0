#!/usr/bin/env python3
"""Profiles bench.zeek (or the transport floor) with perf's software clock
and says where the time per record goes, thread by thread.

    benches/zeek/prof.py record --writer zeromq [--size conn] [--streams 1]
                            [--n 500000] [--freq 2999] [--out DIR]
    benches/zeek/prof.py report DIR/zeromq-conn-1.script --n 500000
                            [--top 30] [--freq 2999] [--focus REGEX]...
    benches/zeek/prof.py stat --writer zeromq [--size conn] [--streams 1]
    benches/zeek/prof.py cgdiff SMALL.out-11 LARGE.out-11 --records 80000

`record` runs `perf record -e cpu-clock -F FREQ --call-graph dwarf` on one
run of bench.zeek with the given writer (none, json, zeromq), or on
zmq-floor (floor, floor-zc, floor-const: first a zeromq run captures the
messages, unprofiled), with the zmq-count subscriber bound first and every
record checked as received, then `perf script` into DIR/NAME.script, then
`report` on it. (Hardware counters are not available in the VM this was
written on; the software clock works, and DWARF unwinding is needed because
neither Zeek, libzmq nor the Rust code keeps frame pointers.)

`report` prints, for each thread (by name: `zeek` is Zeek's main thread,
`zk.bench/Log::W` a log writer thread, `ZMQbg/IO/0` libzmq's I/O thread,
`zmq-floor` the floor's sending thread), CPU per record (samples / FREQ / n)
by category of the function running ("self", kernel time charged to the
kernel), and the functions most often on the stack ("inclusive": a
function's own time and its callees'), each in µs per record. With
--focus, for the functions matching each REGEX instead: their time split by
the function they call (the next frame down, or "(self)"), and their
callers.

`stat` counts, per record, what does not depend on the machine's speed:
system calls by kind, context switches, page faults (perf stat, software
events and syscall tracepoints).

`cgdiff` turns two `valgrind --tool=callgrind --separate-threads=yes` runs
of the same command with different record counts into exact instructions
per record, per function (self and inclusive), for one thread: start-up
cancels out. See BENCHMARKS.md for the commands.
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the benchmark's helpers)

FRAME = re.compile(r"^\s*([0-9a-f]+) (.*) \((.*)\)$")

MALLOC = re.compile(
    r"^(__libc_)?(malloc|free|calloc|realloc|cfree|_int_malloc|_int_free|"
    r"_int_realloc|malloc_consolidate|tcache_\w+|unlink_chunk|"
    r"__GI___libc_free|__GI___libc_malloc|_int_free_merge_chunk|"
    r"_int_free_create_chunk|_int_free_maybe_consolidate|sysmalloc|"
    r"systrim|alloc_perturb)( \(inlined\))?$|^operator (new|delete)"
)

# (category, test on (symbol, dso)), first match wins.
CATEGORIES = [
    ("malloc/free", lambda s, d: bool(MALLOC.search(s))),
    ("kernel", lambda s, d: d == "[kernel.kallsyms]"),
    ("libzmq", lambda s, d: d.startswith("libzmq")),
    ("shim (C++)", lambda s, d: s.startswith("zeromq_writer::")),
    (
        "cxx bridge",
        lambda s, d: "cxxbridge" in s
        or s.startswith("zeek_zeromq_writer::bridge")
        or "catch_unwind" in s,
    ),
    ("encoder", lambda s, d: s.startswith("zeek_zeromq_writer::encoder")),
    ("frame pool", lambda s, d: s.startswith("zeek_zeromq_writer::frames")),
    (
        "publisher/channel",
        lambda s, d: s.startswith(
            ("zeek_zeromq_writer::publisher", "zeek_zeromq_writer::channel")
        ),
    ),
    ("writer (Rust)", lambda s, d: s.startswith("zeek_zeromq_writer::writer")),
    ("other plugin code", lambda s, d: d.startswith("NCSA-ZeroMQWriter")),
    ("zmq-floor", lambda s, d: d == "zmq-floor"),
    ("Zeek logging", lambda s, d: s.startswith("zeek::logging::")),
    ("Zeek threading", lambda s, d: s.startswith("zeek::threading::")),
    ("Zeek other", lambda s, d: d == "zeek"),
    ("libc other", lambda s, d: d.startswith("libc")),
    ("libstdc++", lambda s, d: d.startswith("libstdc++")),
]


def category(sym, dso):
    for name, test in CATEGORIES:
        if test(sym, dso):
            return name
    return "other"


def samples(path):
    """(thread name, [(symbol, dso, inlined)], leaf first) of each sample."""
    with open(path, errors="replace") as f:
        comm, frames = None, []
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if comm is not None:
                    yield comm, frames
                comm, frames = None, []
            elif not line[0].isspace():
                comm = line.rsplit(None, 1)[0].strip()
            else:
                m = FRAME.match(line)
                if m:
                    sym, dso = m.group(2), m.group(3)
                    inlined = dso == "inlined"
                    frames.append((sym, os.path.basename(dso), inlined))
        if comm is not None:
            yield comm, frames


def focus(path, n, freq, top, pattern):
    """What the functions matching `pattern` call (their callees, and their
    own time as "self"), and who calls them, per thread."""
    pat = re.compile(pattern)
    us = 1e6 / freq / n
    callees = collections.defaultdict(collections.Counter)
    callers = collections.defaultdict(collections.Counter)
    total = collections.Counter()
    for comm, frames in samples(path):
        names = [s for s, _, _ in frames]
        # The outermost matching frame (a recursive function counts once).
        hits = [i for i, s in enumerate(names) if pat.search(s)]
        if not hits:
            continue
        i = hits[-1]
        total[comm] += 1
        callees[comm][names[i - 1] if i > 0 else "(self)"] += 1
        callers[comm][names[i + 1] if i + 1 < len(names) else "(root)"] += 1
    for comm, count in total.most_common():
        print(f"\n## {pattern} on thread {comm}: {count * us:.3f} µs/record")
        print("callees (the next frame down; self = its own code):")
        for sym, c in callees[comm].most_common(top):
            print(f"  {c * us:7.3f} µs  {100 * c / count:5.1f}%  {sym}")
        print("callers:")
        for sym, c in callers[comm].most_common(5):
            print(f"  {c * us:7.3f} µs  {100 * c / count:5.1f}%  {sym}")


def callgrind_functions(path, inclusive):
    """{function [object]: instructions} of one callgrind output file.

    callgrind_annotate lists a function once per source file its code came
    from (inlining), naming the object only on the function's own entry.
    The self costs of all entries add up; the own entry's inclusive cost
    already counts the whole function."""
    out = subprocess.run(
        ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
         "--threshold=100", "--auto=no", os.path.abspath(path)],
        capture_output=True, text=True, check=True,
        # Elsewhere, files relative to the current directory are listed
        # apart (and with other counts) from the same files by full path.
        cwd="/",
    ).stdout
    counts, objects = collections.Counter(), {}
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+) \([^)]*\)\s+(.*)$", line)
        if not m:
            continue
        name = m.group(2).strip()
        # "file.rs:function [object]" or "???:function [object]"
        f = re.match(r"^([^ ]*?\.[A-Za-z+]+|\?\?\?):(?!:)(.*)$", name)
        if f:
            name = f.group(2)
        obj = re.search(r" \[([^\]]*)\]$", name)
        if obj:
            name = name[: obj.start()]
            objects[name] = os.path.basename(obj.group(1))
        elif inclusive:
            continue
        counts[name] += int(m.group(1).replace(",", ""))
    return collections.Counter(
        {f"{k} [{objects.get(k, '?')}]": v for k, v in counts.items()}
    )


def cgdiff(small, large, records, top):
    """Instructions per record: (large run - small run) / records, for the
    same thread of two callgrind runs that differ only in record count."""
    for inclusive in (False, True):
        a = callgrind_functions(small, inclusive)
        b = callgrind_functions(large, inclusive)
        rows = sorted(((b[k] - a[k]) / records, k) for k in set(a) | set(b))
        print("\ninclusive" if inclusive else "self", "instructions per record:")
        for v, k in reversed(rows[-top:]):
            if v >= 1:
                print(f"  {v:8.0f}  {k}")


def report(path, n, freq, top):
    per_thread = collections.Counter()
    self_cat = collections.defaultdict(collections.Counter)
    self_sym = collections.defaultdict(collections.Counter)
    incl = collections.defaultdict(collections.Counter)
    for comm, frames in samples(path):
        # The dso of an inlined frame is that of the function it is in.
        resolved, dso = [], "?"
        for sym, d, inlined in reversed(frames):
            if not inlined:
                dso = d
            resolved.append((sym, dso, inlined))
        resolved.reverse()
        real = [(s, d) for s, d, inl in resolved if not inl] or [("?", "?")]
        per_thread[comm] += 1
        leaf_sym, leaf_dso = real[0]
        # malloc's family is often inlined into free()/malloc() frames.
        leaf_cat = category(leaf_sym, leaf_dso)
        if leaf_cat == "libc other" and any(
            MALLOC.search(s) for s, _, _ in resolved[:3]
        ):
            leaf_cat = "malloc/free"
        self_cat[comm][leaf_cat] += 1
        self_sym[comm][f"{leaf_sym} [{leaf_dso}]"] += 1
        seen = set()
        for sym, d, inl in resolved:
            key = f"{sym} [{d}]"
            if key not in seen:
                seen.add(key)
                incl[comm][key] += 1

    us = 1e6 / freq / n
    total = sum(per_thread.values())
    print(f"{path}: {total} samples at {freq} Hz, n = {n:,}: "
          f"{total * us:.2f} µs of CPU per record in all")
    for comm, count in per_thread.most_common():
        if count * us < 0.005:
            continue
        print(f"\n## thread {comm}: {count * us:.3f} µs/record "
              f"({100 * count / total:.1f}% of the samples)")
        print("\nself, by category:")
        for cat, c in self_cat[comm].most_common():
            print(f"  {c * us:7.3f} µs  {100 * c / count:5.1f}%  {cat}")
        print(f"\nself, top {top} functions:")
        for sym, c in self_sym[comm].most_common(top):
            print(f"  {c * us:7.3f} µs  {100 * c / count:5.1f}%  {sym}")
        print(f"\ninclusive, top {top} functions:")
        for sym, c in incl[comm].most_common(top):
            print(f"  {c * us:7.3f} µs  {100 * c / count:5.1f}%  {sym}")


# Counted by `stat`: per record, they do not depend on how busy the machine is
# (the scheduling ones somewhat do).
STAT_EVENTS = [
    "task-clock",
    "context-switches",
    "cpu-migrations",
    "page-faults",
    "raw_syscalls:sys_enter",
    "syscalls:sys_enter_sendto",
    "syscalls:sys_enter_write",
    "syscalls:sys_enter_read",
    "syscalls:sys_enter_epoll_wait",
    "syscalls:sys_enter_poll",
    "syscalls:sys_enter_futex",
    "syscalls:sys_enter_brk",
    "syscalls:sys_enter_madvise",
    "syscalls:sys_enter_munmap",
]


def run_under(prefix, args, name):
    """Runs the writer or floor `args` selects under the command `prefix`,
    with a subscriber, checking every record arrived; returns n."""
    pad, default_n, capture_max = run.SIZES[args.size]
    n = args.n or default_n
    cfg = {"label": args.size, "pad": pad, "n": n, "streams": args.streams,
           "capture": capture_max}
    opts = argparse.Namespace(endpoint=args.endpoint, pin_sub=None, pin_measured=None)
    with tempfile.TemporaryDirectory(prefix="zeek-profile-") as tmp:
        if args.writer.startswith("floor"):
            cap, _ = run.capture(cfg, opts, tmp)
            mode = {"floor": "copy", "floor-zc": "zc", "floor-const": "const"}[args.writer]
            cmd = run.floor_cmd(mode, args.streams, n, cap, opts)
        else:
            cmd = run.zeek_cmd(args.writer, cfg, opts)
        sub = None
        if args.writer not in ("none", "json"):
            sub = run.Subscriber(opts, n)
        subprocess.run(prefix + cmd, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        if sub:
            counts, _ = sub.result()
            run.check_counts(name, counts, cfg)
    return n


def stat(args):
    """perf stat of one run: events per record."""
    name = f"{args.writer}-{args.size}-{args.streams}"
    with tempfile.NamedTemporaryFile(suffix=".csv") as out:
        perf = ["perf", "stat", "-x", ",", "-o", out.name]
        for e in STAT_EVENTS:
            perf += ["-e", e]
        n = run_under(perf + ["--"], args, name)
        lines = open(out.name).read().splitlines()
    print(f"{name}, n = {n:,}: per record")
    for line in lines:
        f = line.split(",")
        if len(f) < 3 or not f[0].replace(".", "").isdigit():
            continue
        value, event = float(f[0]), f[2]
        if event == "task-clock":  # milliseconds
            print(f"  {value * 1e3 / n:10.3f} µs  CPU (task-clock)")
        else:
            print(f"  {value / n:10.4f}     {event}")


def record(args):
    os.makedirs(args.out, exist_ok=True)
    name = f"{args.writer}-{args.size}-{args.streams}"
    data = os.path.join(args.out, name + ".data")
    perf = ["perf", "record", "-q", "-e", "cpu-clock", "-F", str(args.freq),
            "--call-graph", "dwarf", "-o", data, "--"]
    n = run_under(perf, args, name)
    script = os.path.join(args.out, name + ".script")
    with open(script, "w") as f:
        subprocess.run(["perf", "script", "-i", data, "-F", "comm,tid,ip,sym,dso"],
                       stdout=f, stderr=subprocess.DEVNULL, check=True)
    report(script, n, args.freq, args.top)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record")
    st = sub.add_parser("stat")
    for p in (rec, st):
        p.add_argument("--writer", required=True,
                       choices=["none", "json", "zeromq", "floor", "floor-zc", "floor-const"])
        p.add_argument("--size", default="conn", choices=list(run.SIZES))
        p.add_argument("--streams", type=int, default=1)
        p.add_argument("--n", type=int)
        p.add_argument("--endpoint", default="tcp://127.0.0.1:5599")
    rec.add_argument("--out", default="profile")
    for p in (rec, sub.add_parser("report")):
        p.add_argument("--freq", type=int, default=2999)
        p.add_argument("--top", type=int, default=30)
    rep = sub.choices["report"]
    rep.add_argument("script")
    rep.add_argument("--n", type=int, required=True)
    rep.add_argument(
        "--focus",
        action="append",
        default=[],
        help="regex: print the callees and callers of these functions instead",
    )
    cg = sub.add_parser("cgdiff")
    cg.add_argument("small", help="callgrind.out of one thread, the shorter run")
    cg.add_argument("large", help="the same thread of the longer run")
    cg.add_argument("--records", type=int, required=True, help="records the runs differ by")
    cg.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    if args.cmd == "cgdiff":
        cgdiff(args.small, args.large, args.records, args.top)
    elif args.cmd == "record":
        record(args)
    elif args.cmd == "stat":
        stat(args)
    elif args.focus:
        for pattern in args.focus:
            focus(args.script, args.n, args.freq, args.top, pattern)
    else:
        report(args.script, args.n, args.freq, args.top)


if __name__ == "__main__":
    main()
