# @TEST-REQUIRES: which zeek
# @TEST-DOC: LogZeroMQ::message_format = LogZeroMQ::JSON_WITH_PATH: over several traces, every record of every log arrives exactly once as ONE frame, byte-identical to Zeek's JSON log line with "_path":"<path>" inserted after its "{"; a subscriber of '{"_path":"conn",' gets all of conn and nothing else (the subscription, and wait_for_subscribers, match the frame's prefix); the per-filter $config key "message_format" does the same as the option.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: mkdir all && cd all && for t in get.trace dns53.pcap ssh.trace; do CHECK_COMPARE_ARGS=--json-with-path $SCRIPTS/check-trace $TRACES/$t ${ZMQ_PORT%/tcp} LogZeroMQ::message_format=LogZeroMQ::JSON_WITH_PATH LogZeroMQ::overflow_policy=LogZeroMQ::BLOCK || echo $t >>../failed; done; test ! -e ../failed
# @TEST-EXEC: mkdir conn-only && cd conn-only && CHECK_SUB_ARGS='--subscribe {"_path":"conn",' CHECK_COMPARE_ARGS='--json-with-path --paths conn' $SCRIPTS/check-trace $TRACES/get.trace ${ZMQ_PORT%/tcp} LogZeroMQ::message_format=LogZeroMQ::JSON_WITH_PATH
# @TEST-EXEC: cfg=$PWD/config.zeek && mkdir config && cd config && CHECK_COMPARE_ARGS='--json-with-path --unpublished packet_filter' $SCRIPTS/check-trace $TRACES/dns53.pcap ${ZMQ_PORT%/tcp} $cfg

# @TEST-START-FILE config.zeek
# The message format by $config: the default-zmq filters (added at priority
# -5), given the key. (The packet filter logs at -6, maybe before this runs:
# its stream is left out.)
redef LogZeroMQ::excluded_log_ids += {PacketFilter::LOG};

event zeek_init() &priority=-6
	{
	for ( id in Log::active_streams )
		{
		if ( "default-zmq" !in Log::get_filter_names(id) )
			next;

		local filter = copy(Log::get_filter(id, "default-zmq"));
		filter$config = table(["message_format"] = "LogZeroMQ::JSON_WITH_PATH");
		Log::remove_filter(id, "default-zmq");
		Log::add_filter(id, filter);
		}
	}
# @TEST-END-FILE
