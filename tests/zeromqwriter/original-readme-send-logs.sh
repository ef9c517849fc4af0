# @TEST-REQUIRES: which zeek
# @TEST-DOC: The original plugin's README example with send_logs, verbatim in a file named local.bro (only the endpoint filled in): exactly the http and files records are published, byte-identical to the JSON logs, and Zeek prints nothing on stderr.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: sed "s|tcp://localhost:12345|tcp://127.0.0.1:${ZMQ_PORT%/tcp}|" $FILES/original-readme/send-logs.bro >local.bro
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 60
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -C -r $TRACES/get.trace ./local.bro LogAscii::use_json=T >zeek.out 2>zeek.err || { touch zeek.done; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 30
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl --paths http,files
# @TEST-EXEC: test ! -s zeek.err || { cat zeek.err >&2; false; }
