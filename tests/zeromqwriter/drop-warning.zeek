# @TEST-REQUIRES: which zeek
# @TEST-DOC: A subscriber that never reads (overflow_policy DROP, zmq_hwm 10): the writer reports its drops with a rate-limited Warning naming the path, the cause (a subscriber zmq_hwm messages behind, and no other) and what helps against it (BLOCK, a larger zmq_hwm), and at DoFinish an Info with its totals; sent + dropped in the telemetry counters equals the records written but for those libzmq's queue and the kernel's send buffer hold (at most 10 + 2 x 128 KiB of records of 10 KB, or of 4 KB where Zeek cuts strings at Log::default_max_field_string_bytes: 76), which the totals count as dropped; otherwise they match the totals of the Info.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-stall-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --ready ../sub.ready --until-file ../zeek.done --deadline 120
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -b NCSA::ZeroMQWriter $FILES/zmq-endpoint.zeek $FILES/zmq-telemetry.zeek %INPUT >zeek.out 2>zeek.err || { touch zeek.done; cat zeek.err >&2; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: $PYTHON $SCRIPTS/check-drop-reports.py --path zmq_drop --written 5000 --cause behind --hwm 10 --pending 76 zeek.out zeek.err

# Zeek runs (network time following the clock) until the counters, which the
# writer updates on its heartbeats, account for every record, or something
# was dropped and they stayed the same for two seconds (the records libzmq
# and the kernel hold for a subscriber that never reads are neither sent
# nor dropped until the writer finishes), or a minute passed.
redef exit_only_after_terminate = T;

redef LogZeroMQ::zmq_hwm = 10;
# The subscriber never reads, so there is nothing worth waiting for at exit.
redef LogZeroMQ::zmq_linger = 0;
# Longer than the test: one warning, however many records are dropped.
redef LogZeroMQ::drop_report_interval = 10min;

module ZmqDrop;

export {
	redef enum Log::ID += { LOG };

	type Info: record {
		n: count &log;
		s: string &log;
	};
}

redef LogZeroMQ::send_logs = {LOG};

# 50 MB of JSON: far more than the kernel's socket buffers and the high-water
# mark hold.
const n_records = 5000;

global deadline: time;
global previous = "";
global same_since: time;

event check()
	{
	local c = ZmqTelemetry::counts("zmq_drop");
	local now = ZmqTelemetry::describe(c);

	if ( now != previous )
		{
		previous = now;
		same_since = current_time();
		}

	if ( c$sent + c$dropped == n_records
	    || ( c$dropped > 0 && current_time() - same_since >= 2sec )
	    || current_time() > deadline )
		{
		print fmt("zmq_drop %s", ZmqTelemetry::describe(c));
		terminate();
		return;
		}

	schedule 250msec { check() };
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_drop"));
	}

# After the ZeroMQ filter was added (priority -5).
event zeek_init() &priority=-10
	{
	# Only the ZeroMQ filter: no 50 MB log on disk.
	Log::remove_filter(LOG, "default");

	local s = string_fill(10000, "0123456789");
	local i = 0;
	while ( i < n_records )
		{
		Log::write(LOG, Info($n=i, $s=s));
		++i;
		}

	deadline = current_time() + 60sec;
	event check();
	}
