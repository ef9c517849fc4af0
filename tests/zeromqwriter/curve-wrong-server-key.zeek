# @TEST-REQUIRES: which zeek
# @TEST-DOC: Connect mode with a curve_server_public_key that is not the subscriber's (a CURVE server with another key): the writer says that the CURVE handshake with the subscriber's endpoint failed, once (the repeats counted), and its no-subscriber drop warning names the failed handshake instead of only asking whether a subscriber is there; nothing arrives, every record is counted as dropped.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: for n in collector other; do $PYTHON -c 'import sys, zmq; p, s = zmq.curve_keypair(); open(sys.argv[1] + ".pub", "w").write(p.decode() + "\n"); open(sys.argv[1] + ".key", "w").write(s.decode() + "\n")' $n || exit 1; done && chmod 600 collector.key other.key
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --curve-server-key ../collector.key --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: OTHER_PUB=$(cat other.pub) timeout 60 zeek $FILES/zmq-endpoint.zeek %INPUT >zeek.out 2>zeek.err || { touch zeek.done; cat zeek.err >&2; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: test ! -s received.jsonl || { echo "the subscriber received messages" >&2; false; }
# The failed handshake: said once on stderr (the repeats counted), and in
# reporter.log; named by the drop warning; the totals count every record.
# @TEST-EXEC: cat zeek.err reporter.log >messages 2>/dev/null; echo "zmq_wrong_key/Log::WRITER_ZEROMQ: CURVE handshake failed: cannot talk to the subscriber at tcp://127.0.0.1:${ZMQ_PORT%/tcp}: it closed the connection during the handshake: it does not use CURVE, or the server key this end was given is not the subscriber's" >said
# @TEST-EXEC: test "$(grep -F -f said zeek.err | grep -c warning)" = 1 || { cat messages >&2; false; }
# @TEST-EXEC: grep -F -f said reporter.log | grep -q Reporter::WARNING || { cat messages >&2; false; }
# @TEST-EXEC: grep -F "zmq_wrong_key/Log::WRITER_ZEROMQ: dropped " zeek.err | grep -qF "with no subscriber of this path at tcp://127.0.0.1:${ZMQ_PORT%/tcp} (a subscriber is there, but the handshake with it failed: cannot talk to the subscriber at tcp://127.0.0.1:${ZMQ_PORT%/tcp}: " || { cat messages >&2; false; }
# @TEST-EXEC: grep -qF "zmq_wrong_key/Log::WRITER_ZEROMQ: published 0 of 4 records, dropped 4 (4 with no subscriber," zeek.err || { cat messages >&2; false; }

redef exit_only_after_terminate = T;
redef LogZeroMQ::curve_server_public_key = getenv("OTHER_PUB");
# The writer's first record waits for a subscriber this long: meanwhile its
# handshakes fail.
redef LogZeroMQ::wait_for_subscribers = 2sec;
# Longer than the test: repeats are counted, not said.
redef LogZeroMQ::drop_report_interval = 10min;

module ZmqWrongKey;

export {
	redef enum Log::ID += { LOG };

	type Info: record {
		n: count &log;
	};
}

redef LogZeroMQ::send_logs = {LOG};

global end_of_test: event();

# A record a second, over some heartbeats.
event more(n: count)
	{
	Log::write(LOG, Info($n=n));

	if ( n < 4 )
		schedule 1sec { more(n + 1) };
	else
		schedule 1sec { end_of_test() };
	}

event end_of_test()
	{
	terminate();
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_wrong_key"));
	}

event zeek_init() &priority=-10
	{
	Log::remove_filter(LOG, "default");
	event more(1);
	}
