# @TEST-REQUIRES: which zeek
# @TEST-REQUIRES: test "$(ulimit -Hn)" = unlimited || test "$(ulimit -Hn)" -ge 20000
# @TEST-DOC: 2,000 log paths in connect mode, under ulimit -n 20000 (each connected writer takes 3 ZeroMQ sockets and about 6 files with Zeek's own): all 2,000 writers publish, beyond libzmq's default limit of 1,023 sockets per context; the subscriber receives each path's one record exactly once, and no writer reports a problem.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --count 2000 --deadline 60
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: ulimit -n 20000 && timeout 60 zeek -b $FILES/zmq-endpoint.zeek %INPUT >zeek.out 2>zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: btest-bg-wait 60
# @TEST-EXEC: test ! -s zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: $PYTHON -c 'import json, sys; got = sorted(json.loads(l)["frames"][0] for l in open("received.jsonl")); want = sorted("zmq_many_%d" % i for i in range(2000)); sys.exit(0 if got == want else "received %d messages of %d paths, expected one of each of 2000" % (len(got), len(set(got))))'

# The subscriber is bound before Zeek starts: each writer's first record
# waits (at most this long) for its subscription only.
redef LogZeroMQ::wait_for_subscribers = 20sec;

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
