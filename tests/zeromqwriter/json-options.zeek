# @TEST-REQUIRES: which zeek
# @TEST-DOC: The JSON options: LogZeroMQ::json_timestamps/json_include_unset_fields set globally (compared with LogAscii's equivalents), and overridden per filter through $config for every timestamp format (compared with ASCII filters using the same $config).
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -b NCSA::ZeroMQWriter $FILES/zmq-endpoint.zeek %INPUT || { touch zeek.done; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl

redef LogAscii::json_timestamps = JSON::TS_ISO8601;
redef LogZeroMQ::json_timestamps = JSON::TS_ISO8601;
redef LogAscii::json_include_unset_fields = T;
redef LogZeroMQ::json_include_unset_fields = T;

module ZmqOpts;

export {
	redef enum Log::ID += { LOG };

	type Inner: record {
		at: time &log &optional;
		label: string &log &optional;
	};

	type Info: record {
		ts: time &log;
		n: count &log;
		times: vector of time &log;
		time_set: set[time] &log;
		opt_t: time &log &optional;
		opt_s: string &log &optional;
		iv: interval &log;
		inner: Inner &log &optional;
	};
}

redef LogZeroMQ::send_logs = {LOG};

# An ASCII filter and a ZeroMQ filter with the same JSON options in $config,
# writing the same path.
function add_pair(mode: string, ts: string, unset: string)
	{
	local path = "zmq_opts_" + mode;
	local config: table[string] of string = table();
	config["json_timestamps"] = ts;
	config["json_include_unset_fields"] = unset;

	Log::add_filter(LOG, Log::Filter($name="zmq-" + mode, $path=path,
	    $writer=Log::WRITER_ZEROMQ, $interv=0sec, $config=config));

	local ascii_config = copy(config);
	ascii_config["use_json"] = "T";

	Log::add_filter(LOG, Log::Filter($name="ascii-" + mode, $path=path,
	    $writer=Log::WRITER_ASCII, $config=ascii_config));
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_opts"));

	add_pair("epoch", "JSON::TS_EPOCH", "F");
	add_pair("epoch_unset", "JSON::TS_EPOCH", "T");
	add_pair("millis", "JSON::TS_MILLIS", "F");
	add_pair("iso8601", "JSON::TS_ISO8601", "F");
@ifdef ( JSON::TS_MILLIS_UNSIGNED )
	add_pair("millis_unsigned", "JSON::TS_MILLIS_UNSIGNED", "F");
@endif
	}

event zeek_init() &priority=-10
	{
	local secs = vector(0.0, 1.5, -1.5, 1.9999996, 0.0000001, -0.0000001,
	    0.9999995, 1700000000.123456, 1700000000.9999995, 4102444800.5,
	    253402300799.999, -62135596800.0, 1e-7, 86399.9999999);

	for ( i in secs )
		{
		local t = double_to_time(secs[i]);
		local rec = Info($ts=t, $n=i, $times=vector(t, double_to_time(0.0), t),
		    $time_set=set(t), $iv=double_to_interval(secs[i]));

		if ( i % 2 == 0 )
			{
			rec$opt_t = t;
			rec$opt_s = fmt("even %d", i);
			rec$inner = Inner($at=t);
			}

		Log::write(LOG, rec);
		}
	}
