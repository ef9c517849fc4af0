# @TEST-REQUIRES: which zeek
# @TEST-DOC: With LogZeroMQ::endpoint left empty (the default), loading NCSA/ZeroMQWriter adds no filter and the options keep their documented defaults.
#
# @TEST-EXEC: zeek -b NCSA::ZeroMQWriter %INPUT >output 2>&1 || { cat output >&2; false; }
# @TEST-EXEC: ! grep FAIL output >&2
# @TEST-EXEC: grep -q "all checks done" output || { cat output >&2; false; }

@load NCSA/ZeroMQWriter

module ZmqInactive;

export {
	redef enum Log::ID += { LOG };

	type Info: record {
		a: count &log;
	};
}

global failures = 0;

function check(ok: bool, what: string)
	{
	if ( ok )
		print fmt("ok   %s", what);
	else
		{
		print fmt("FAIL %s", what);
		++failures;
		}
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_inactive"));
	}

event zeek_init() &priority=-10
	{
	check(LogZeroMQ::endpoint == "", "endpoint defaults to empty");
	check(LogZeroMQ::zmq_hwm == 1000, "zmq_hwm defaults to 1000");
	check(LogZeroMQ::zmq_linger == 3000, "zmq_linger defaults to 3000");
	check(LogZeroMQ::zmq_connect_pause == 0, "zmq_connect_pause defaults to 0");
	check(LogZeroMQ::wait_for_subscribers == 5sec,
	    "wait_for_subscribers defaults to 5 sec");
	check(LogZeroMQ::json_timestamps == JSON::TS_EPOCH,
	    "json_timestamps defaults to JSON::TS_EPOCH");
	check(! LogZeroMQ::json_include_unset_fields,
	    "json_include_unset_fields defaults to F");
	check(|LogZeroMQ::send_logs| == 0, "send_logs defaults to empty");
	check(|LogZeroMQ::excluded_log_ids| == 0,
	    "excluded_log_ids defaults to empty");

	for ( id in Log::active_streams )
		check("default-zmq" !in Log::get_filter_names(id), fmt(
		    "%s has no default-zmq filter", id));

	if ( failures == 0 )
		print "all checks done";
	}
