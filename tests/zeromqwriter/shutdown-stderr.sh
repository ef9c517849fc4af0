# @TEST-REQUIRES: which zeek
# @TEST-DOC: Zeek's stderr over a trace with the plugin publishing equals plain Zeek's (no plugin loaded): nothing at all with a subscriber; with nobody listening, only each writer's documented totals line at shutdown, and no "Thread ... added after threading manager terminated".
# @TEST-PORT: ZMQ_PORT
# @TEST-PORT: NOBODY_PORT
#
# Plain Zeek: no plugin at all.
# @TEST-EXEC: mkdir no-plugins && ZEEK_PLUGIN_PATH=$PWD/no-plugins zeek -C -r $TRACES/get.trace >plain.out 2>plain.err
# @TEST-EXEC: test -s conn.log && mkdir plain && mv *.log plain/
#
# With a subscriber: the same stderr.
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 60
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -C -r $TRACES/get.trace $FILES/zmq-endpoint.zeek >sub.out 2>sub.err || { touch zeek.done; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 30
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl --paths conn,http,files,packet_filter
# @TEST-EXEC: diff plain.err sub.err
#
# Nobody listening: every record is dropped, and each writer says so once, at
# shutdown (on stderr only: Zeek writes no logs any more then).
# @TEST-EXEC: rm -f *.log && ZMQ_PORT=$NOBODY_PORT zeek -C -r $TRACES/get.trace $FILES/zmq-endpoint.zeek >nobody.out 2>nobody.err
# @TEST-EXEC: grep -Ev '^[0-9.]+ (conn|http|files|packet_filter)/Log::WRITER_ZEROMQ: published 0 of 1 record, dropped 1 \(1 with no subscriber, 0 with a slow subscriber, 0 unsent when the linger time ran out, 0 at shutdown, 0 lost with the connection, 0 unencodable, 0 on socket errors\)$' nobody.err | diff plain.err -
# @TEST-EXEC: test "$(grep -c 'Log::WRITER_ZEROMQ: published 0 of 1 record' nobody.err)" = 4
# @TEST-EXEC: test ! -e reporter.log
