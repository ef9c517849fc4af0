# @TEST-REQUIRES: which zeek
# @TEST-DOC: Over a trace with the site's local.zeek, every log the run writes arrives, record for record, byte-identical to the JSON log lines, and no path arrives that has no log.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 110
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -C -r $TRACES/get.trace $FILES/zmq-endpoint.zeek local || { touch zeek.done; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 90
# @TEST-EXEC: test -s conn.log && test -s http.log && test -s files.log
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl
