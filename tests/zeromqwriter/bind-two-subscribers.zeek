# @TEST-REQUIRES: which zeek
# @TEST-DOC: Bind mode (LogZeroMQ::bind = T): Zeek binds the endpoint, shared by the writers of three paths, and two subscribers connect to it; once both receive probe records, both get every record of the three paths, byte-identical to the JSON logs.
# @TEST-PORT: ZMQ_PORT
#
# The subscribers start first and keep trying to connect until Zeek binds.
# Each creates its ready file when its first message (a probe) arrives: then
# Zeek's socket has its subscription, and the script writes the real records.
# @TEST-EXEC: btest-bg-run sub1 $PYTHON $SCRIPTS/zmq-sub.py --connect tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received1.jsonl --ready ../sub1.ready --ready-on-message --until-file ../zeek.done --deadline 110
# @TEST-EXEC: btest-bg-run sub2 $PYTHON $SCRIPTS/zmq-sub.py --connect tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received2.jsonl --ready ../sub2.ready --ready-on-message --until-file ../zeek.done --deadline 110
# @TEST-EXEC: zeek -b NCSA::ZeroMQWriter $FILES/zmq-endpoint.zeek %INPUT >zeek.out 2>zeek.err || { touch zeek.done; cat zeek.err >&2; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: grep -q "^subscribers ready" zeek.out || { cat zeek.out >&2; false; }
# @TEST-EXEC: for n in 1 2; do grep -v '^{"frames": \["zmq_bind_probe"' received$n.jsonl >records$n.jsonl || true; done
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py records1.jsonl --paths zmq_bind_a,zmq_bind_b,zmq_bind_c
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py records2.jsonl --paths zmq_bind_a,zmq_bind_b,zmq_bind_c

# The endpoint is tcp://127.0.0.1:$ZMQ_PORT (zmq-endpoint.zeek); Zeek binds it.
redef LogZeroMQ::bind = T;

# Zeek runs until the script has written its records and calls terminate().
redef exit_only_after_terminate = T;

module ZmqBind;

export {
	redef enum Log::ID += {
		A_LOG,
		B_LOG,
		C_LOG,
		PROBE_LOG
	};

	type Info: record {
		n: count &log;
		s: string &log;
	};
}

redef LogZeroMQ::send_logs = {
	A_LOG,
	B_LOG,
	C_LOG,
	PROBE_LOG
};

global deadline: time;
global probes = 0;

function write_records(id: Log::ID, n: count)
	{
	local i = 0;
	while ( i < n )
		{
		Log::write(id, Info($n=i, $s=fmt("record %d of %s", i, id)));
		++i;
		}
	}

# Writes a probe every 100 ms (the first one makes a writer bind the
# endpoint) until both subscribers have received one.
event probe()
	{
	local ready1 = file_size("sub1.ready") >= 0.0;
	local ready2 = file_size("sub2.ready") >= 0.0;

	if ( ready1 && ready2 )
		{
		print fmt("subscribers ready after %d probes", probes);
		write_records(A_LOG, 100);
		write_records(B_LOG, 37);
		write_records(C_LOG, 250);
		terminate();
		return;
		}

	if ( current_time() > deadline )
		{
		print fmt("FAIL: after %d probes: sub1 ready %s, sub2 ready %s", probes,
		    ready1, ready2);
		terminate();
		return;
		}

	++probes;
	Log::write(PROBE_LOG, Info($n=probes, $s="probe"));
	schedule 100msec { probe() };
	}

event zeek_init()
	{
	Log::create_stream(A_LOG, Log::Stream($columns=Info, $path="zmq_bind_a"));
	Log::create_stream(B_LOG, Log::Stream($columns=Info, $path="zmq_bind_b"));
	Log::create_stream(C_LOG, Log::Stream($columns=Info, $path="zmq_bind_c"));
	Log::create_stream(PROBE_LOG, Log::Stream($columns=Info,
	    $path="zmq_bind_probe"));
	}

# After the ZeroMQ filters were added (priority -5).
event zeek_init() &priority=-10
	{
	deadline = current_time() + 60sec;
	event probe();
	}
