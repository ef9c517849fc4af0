# @TEST-REQUIRES: which zeek
# @TEST-DOC: A second filter on DNS::LOG whose $config misspells "endpoint" as "endpont": its writer does not publish at all (rather than publish to the script-level endpoint, where nobody expects its records), with an Error on stderr that names the unknown key, the closest known key and the endpoint it would have used, and its totals at the end (it dropped its one record); the subscriber of the script-level endpoint gets exactly the default filter's records.
# @TEST-PORT: ZMQ_PORT
# @TEST-PORT: ZMQ_PORT2
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -C -r $TRACES/dns53.pcap $FILES/zmq-endpoint.zeek %INPUT >zeek.out 2>zeek.err || { touch zeek.done; cat zeek.err >&2; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl --paths dns
# @TEST-EXEC: grep -F "error: dns-2/Log::WRITER_ZEROMQ: unknown \$config key \"endpont\" (did you mean \"endpoint\"?): not publishing this log; without the key it would go to tcp://127.0.0.1:${ZMQ_PORT%/tcp} (LogZeroMQ::endpoint)" zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: grep -qF ' dns-2/Log::WRITER_ZEROMQ: published 0 of 1 record, dropped 1 (the writer never started: see the error at its start)' zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: test "$(grep -c 'Log::WRITER_ZEROMQ' zeek.err)" = 2 || { cat zeek.err >&2; false; }

redef LogZeroMQ::send_logs += {DNS::LOG};

event zeek_init() &priority=-10
	{
	local endpoint2 = fmt("tcp://127.0.0.1:%d", port_to_count(to_port(getenv(
	    "ZMQ_PORT2"))));

	Log::add_filter(DNS::LOG, Log::Filter($name="remote-zmq",
	    $writer=Log::WRITER_ZEROMQ, $interv=0sec, $config=table(["endpont"] =
	    endpoint2)));
	}
