# @TEST-REQUIRES: which zeek
# @TEST-DOC: The multi-subscriber example of the original documentation: a second filter on DNS::LOG with its own endpoint in $config, whose path Zeek renames to dns-2. Each subscriber gets only its own records, all equal to the lines of dns.log.
# @TEST-PORT: ZMQ_PORT
# @TEST-PORT: ZMQ_PORT2
#
# @TEST-EXEC: btest-bg-run sub1 $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received1.jsonl --ready ../sub1.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: btest-bg-run sub2 $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT2%/tcp} --out ../received2.jsonl --ready ../sub2.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: $SCRIPTS/wait-for-file sub1.ready 30 sub1 && $SCRIPTS/wait-for-file sub2.ready 30 sub2
# @TEST-EXEC: zeek -C -r $TRACES/dns53.pcap $FILES/zmq-endpoint.zeek %INPUT || { touch zeek.done; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received1.jsonl --paths dns
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received2.jsonl --paths dns-2 --map dns-2=dns

redef LogZeroMQ::send_logs += {DNS::LOG};

event zeek_init() &priority=-10
	{
	local endpoint2 = fmt("tcp://127.0.0.1:%d", port_to_count(to_port(getenv(
	    "ZMQ_PORT2"))));

	local remote_filter_dns: Log::Filter = [$name="remote-zmq",
	    $writer=Log::WRITER_ZEROMQ, $interv=0sec, $config=table(["endpoint"] =
	    endpoint2)];

	Log::add_filter(DNS::LOG, remote_filter_dns);
	}
