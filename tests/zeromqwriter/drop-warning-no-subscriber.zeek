# @TEST-REQUIRES: which zeek
# @TEST-DOC: Nobody listening at the endpoint (connect mode): the writer's drop Warning gives the cause, no subscriber of the path at that endpoint, with the advice that fits it (a subscriber bound there, wait_for_subscribers; BLOCK does not wait for subscribers), and nothing about BLOCK or zmq_hwm helping; one record is "1 record", in the Warning and in the totals at DoFinish, which match the telemetry counters.
# @TEST-PORT: ZMQ_PORT
#
# Nobody binds $ZMQ_PORT: @TEST-PORT only found it free.
# @TEST-EXEC: zeek -b NCSA::ZeroMQWriter $FILES/zmq-endpoint.zeek $FILES/zmq-telemetry.zeek %INPUT >zeek.out 2>zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: $PYTHON $SCRIPTS/check-drop-reports.py --path zmq_nobody --written 1 --cause no-subscriber zeek.out zeek.err
# @TEST-EXEC: grep -qF "zmq_nobody/Log::WRITER_ZEROMQ: dropped 1 record since the last report (1 of 1 record so far): 1 with no subscriber of this path at tcp://127.0.0.1:${ZMQ_PORT%/tcp} (" zeek.err || { cat zeek.err >&2; false; }

# Zeek runs (network time following the clock) until the counters, which the
# writer updates on its heartbeats, account for the record, or a minute
# passed.
redef exit_only_after_terminate = T;

# Nobody will come: no waiting for subscribers.
redef LogZeroMQ::wait_for_subscribers = 0sec;
# Longer than the test: one warning.
redef LogZeroMQ::drop_report_interval = 10min;

module ZmqNobody;

export {
	redef enum Log::ID += { LOG };

	type Info: record {
		n: count &log;
	};
}

redef LogZeroMQ::send_logs = {LOG};

global deadline: time;

event check()
	{
	local c = ZmqTelemetry::counts("zmq_nobody");

	if ( c$sent + c$dropped == 1 || current_time() > deadline )
		{
		print fmt("zmq_nobody %s", ZmqTelemetry::describe(c));
		terminate();
		return;
		}

	schedule 250msec { check() };
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_nobody"));
	}

# After the ZeroMQ filter was added (priority -5).
event zeek_init() &priority=-10
	{
	Log::remove_filter(LOG, "default");
	Log::write(LOG, Info($n=1));
	deadline = current_time() + 60sec;
	event check();
	}
