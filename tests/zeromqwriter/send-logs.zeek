# @TEST-REQUIRES: which zeek
# @TEST-DOC: With send_logs and excluded_log_ids, only the selected streams are published (excluded_log_ids wins), byte-identical to their JSON logs; the other logs are still written to disk.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -C -r $TRACES/dns53.pcap $FILES/zmq-endpoint.zeek %INPUT || { touch zeek.done; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: test -s conn.log && test -s dns.log
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl --paths conn --unpublished dns

redef LogZeroMQ::send_logs = {
	Conn::LOG,
	DNS::LOG
};

redef LogZeroMQ::excluded_log_ids = {DNS::LOG};
