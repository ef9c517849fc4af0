# @TEST-REQUIRES: which zeek
# @TEST-DOC: A subscriber started before Zeek, default options: over a trace whose conn, files, http and packet_filter writers start when their first record is written (most at termination), and with two logs written only in zeek_done, every record of every path arrives; nothing is reported dropped.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -C -r $TRACES/206_example_a.pcap $FILES/zmq-endpoint.zeek %INPUT >zeek.out 2>zeek.err || { touch zeek.done; cat zeek.err >&2; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: test -s zmq_late_a.log && test -s zmq_late_b.log && test -s conn.log
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl
# @TEST-EXEC: test ! -s zeek.err || { cat zeek.err >&2; false; }

module ZmqLate;

export {
	redef enum Log::ID += {
		A_LOG,
		B_LOG
	};

	type Info: record {
		n: count &log;
		s: string &log;
	};
}

event zeek_init()
	{
	Log::create_stream(A_LOG, Log::Stream($columns=Info, $path="zmq_late_a"));
	Log::create_stream(B_LOG, Log::Stream($columns=Info, $path="zmq_late_b"));
	}

# Their writers start here, at termination: a burst each, sent right after
# the writer's connection is made.
event zeek_done()
	{
	local i = 0;
	while ( i < 500 )
		{
		Log::write(A_LOG, Info($n=i, $s="a"));
		Log::write(B_LOG, Info($n=i, $s="b"));
		++i;
		}
	}
