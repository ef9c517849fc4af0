# @TEST-REQUIRES: which zeek
# @TEST-REQUIRES: (ulimit -n 20000)
# @TEST-DOC: 2,000 log paths in connect mode, under ulimit -n 20000 (each connected writer takes 3 ZeroMQ sockets and about 6 files with Zeek's own): all 2,000 writers publish, beyond libzmq's default limit of 1,023 sockets per context; the subscriber receives each path's one record exactly once, and no writer reports a problem. Under ulimit -n 8200 the writers beyond the socket limit say it, and Zeek exits 0.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --count 2000 --deadline 60
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: ulimit -n 20000 && timeout 60 zeek -b $FILES/zmq-endpoint.zeek %INPUT >zeek.out 2>zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: btest-bg-wait 60
# @TEST-EXEC: test ! -s zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: $PYTHON -c 'import json, sys; got = sorted(json.loads(l)["frames"][0] for l in open("received.jsonl")); want = sorted("zmq_many_%d" % i for i in range(2000)); sys.exit(0 if got == want else "received %d messages of %d paths, expected one of each of 2000" % (len(got), len(set(got))))'
#
# Under ulimit -n 8200 the shared context's socket limit is reached before
# the files run out (which would abort Zeek, "Pipe failure: Too many open
# files"): the writers beyond it say that limit and what to raise, and
# publish nothing; Zeek exits 0. (Nobody subscribes: no waiting.)
# @TEST-EXEC: mkdir limit && cd limit && ulimit -n 8200 && NOBODY=1 timeout 60 zeek -b $FILES/zmq-endpoint.zeek ../many-writers.zeek >zeek.out 2>zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: grep -Ev '^(error: zmq_many_[0-9]+/Log::WRITER_ZEROMQ: cannot create a ZeroMQ socket: Too many open files \(the process may open 8200 files, and the connected writers. ZeroMQ context [0-9]+ sockets, sized from that; .* raise the open files limit Zeek starts with, .ulimit -n., now 8200, .*\); not publishing this log|zmq_many_[0-9]+/Log::WRITER_ZEROMQ: (dropped|published) .*)$' limit/zeek.err >unexpected; test ! -s unexpected || { cat unexpected >&2; false; }
# @TEST-EXEC: n=$(grep -c '^error: .*cannot create a ZeroMQ socket' limit/zeek.err); test "$n" -gt 0 && test "$n" -lt 2000 || { echo "$n writers could not start" >&2; false; }

# The subscriber is bound before Zeek starts: each writer's first record
# waits (at most this long) for its subscription only. (NOBODY: no
# subscriber, no waiting.)
redef LogZeroMQ::wait_for_subscribers = getenv("NOBODY") == "" ? 20sec : 0sec;

module ZmqMany;

export {
	redef enum Log::ID += { LOG };

	type Info: record {
		n: count &log;
	};
}

# One stream, a filter (and so a writer) per path.
event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_many"));
	Log::remove_filter(LOG, "default");
	local i = 0;

	while ( i < 2000 )
		{
		Log::add_filter(LOG, Log::Filter($name=fmt("zmq-%d", i), $path=fmt(
		    "zmq_many_%d", i), $writer=Log::WRITER_ZEROMQ));
		++i;
		}

	Log::write(LOG, Info($n=1));
	}
