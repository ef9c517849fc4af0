# @TEST-REQUIRES: which zeek
# @TEST-DOC: CURVE in connect mode: a pyzmq subscriber that is a CURVE server with the key Zeek was given receives every record, byte-identical to the JSON logs; a plain-text subscriber behind a second filter with the same CURVE settings receives nothing.
# @TEST-PORT: ZMQ_PORT
# @TEST-PORT: PLAIN_PORT
#
# @TEST-EXEC: $PYTHON -c 'import zmq; p, s = zmq.curve_keypair(); open("collector.pub", "w").write(p.decode() + "\n"); open("collector.key", "w").write(s.decode() + "\n")' && chmod 600 collector.key
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --curve-server-key ../collector.key --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: btest-bg-run plain $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${PLAIN_PORT%/tcp} --out ../plain.jsonl --ready ../plain.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub && $SCRIPTS/wait-for-file plain.ready 30 plain
# @TEST-EXEC: COLLECTOR_PUB=$(cat collector.pub) zeek -C -r $TRACES/get.trace $FILES/zmq-endpoint.zeek %INPUT >zeek.out 2>zeek.err || { touch zeek.done; cat zeek.err >&2; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# Published: the trace's conn, http and files records, and packet_filter,
# which Zeek writes at startup when it reads a trace. The zmq-plain writer's
# plain-text subscriber never completes the CURVE handshake, so conn-plain's
# record has no subscriber: the writer says so at shutdown, on stderr only.
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl --paths conn,http,files,packet_filter
# @TEST-EXEC: grep -q 'conn-plain/Log::WRITER_ZEROMQ: published 0 of 1 record, dropped 1 (1 with no subscriber' zeek.err
# @TEST-EXEC: test ! -s plain.jsonl || { echo "plain-text subscriber received messages" >&2; false; }

redef LogZeroMQ::curve_server_public_key = getenv("COLLECTOR_PUB");

event zeek_init() &priority=-10
	{
	Log::add_filter(Conn::LOG, Log::Filter($name="zmq-plain", $path="conn-plain",
	    $writer=Log::WRITER_ZEROMQ, $interv=0sec, $config=table(["endpoint"] =
	    fmt("tcp://127.0.0.1:%d", port_to_count(to_port(getenv(
	    "PLAIN_PORT")))), ["wait_for_subscribers"] = "1")));
	}
