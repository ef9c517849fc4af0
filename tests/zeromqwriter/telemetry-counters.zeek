# @TEST-REQUIRES: which zeek
# @TEST-DOC: The writer's telemetry counters, read through Telemetry::collect_metrics while Zeek runs: zeek_zeromq_writer_records_total{path,result="sent"} equals the records written to each of two paths, result="dropped" exists and is 0, and zeek_zeromq_writer_bytes_total{path} equals the JSON bytes of the path's log lines; the subscriber got every record.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -b NCSA::ZeroMQWriter $FILES/zmq-endpoint.zeek $FILES/zmq-telemetry.zeek %INPUT >zeek.out 2>zeek.err || { touch zeek.done; cat zeek.err >&2; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl --paths zmq_tele_a,zmq_tele_b
# @TEST-EXEC: $PYTHON $SCRIPTS/check-writer-counters.py zeek.out zmq_tele_a zmq_tele_b

# Zeek runs (network time following the clock) until the counters, which the
# writers update on their heartbeats, show every record, or a minute passed.
redef exit_only_after_terminate = T;

module ZmqTele;

export {
	redef enum Log::ID += {
		A_LOG,
		B_LOG
	};

	type Info: record {
		n: count &log;
		s: string &log;
		t: time &log;
	};
}

redef LogZeroMQ::send_logs = {
	A_LOG,
	B_LOG
};

# Records per path: different, so that a mix-up of the path label shows.
const n_a = 120;
const n_b = 7;

global deadline: time;
global previous = "";

# Polls until every record is counted as sent and a second reading, 250 ms
# later, is the same (the three counters are not updated as one).
event check()
	{
	local a = ZmqTelemetry::counts("zmq_tele_a");
	local b = ZmqTelemetry::counts("zmq_tele_b");
	local now = fmt("zmq_tele_a %s, zmq_tele_b %s", ZmqTelemetry::describe(a),
	    ZmqTelemetry::describe(b));
	local complete = a$sent == n_a && b$sent == n_b;

	if ( ( complete && now == previous ) || current_time() > deadline )
		{
		# One line per path: print escapes a newline inside a string.
		print fmt("zmq_tele_a %s", ZmqTelemetry::describe(a));
		print fmt("zmq_tele_b %s", ZmqTelemetry::describe(b));
		terminate();
		return;
		}

	previous = now;
	schedule 250msec { check() };
	}

event zeek_init()
	{
	Log::create_stream(A_LOG, Log::Stream($columns=Info, $path="zmq_tele_a"));
	Log::create_stream(B_LOG, Log::Stream($columns=Info, $path="zmq_tele_b"));
	}

# After the ZeroMQ filters were added (priority -5).
event zeek_init() &priority=-10
	{
	local i = 0;
	while ( i < n_a )
		{
		# Records of different lengths, with characters JSON escapes.
		Log::write(A_LOG, Info($n=i, $s=string_fill(i, "ab\"\x01"), $t=double_to_time(
		    1700000000.0 + i)));
		++i;
		}

	i = 0;
	while ( i < n_b )
		{
		Log::write(B_LOG, Info($n=i, $s="b", $t=double_to_time(0.0)));
		++i;
		}

	deadline = current_time() + 60sec;
	event check();
	}
