# @TEST-REQUIRES: which zeek
# @TEST-DOC: The one-frame format (JSON_WITH_PATH) with everything else on: Zeek binds (LogZeroMQ::bind) as a CURVE server (curve_secret_key_file, curve_allowed_clients_file), with ISO 8601 timestamps and unset fields as null; a subscriber with an allowed key connects and receives every record of a trace as one frame, byte-identical to the JSON log lines (the same JSON options) with "_path" first, and nothing is dropped.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: $ZEEK_ZMQ keygen zeek && $ZEEK_ZMQ keygen collector
# The subscriber connects, retrying until Zeek binds; each writer waits for
# its subscription (LogZeroMQ::wait_for_subscribers).
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --connect tcp://127.0.0.1:${ZMQ_PORT%/tcp} --curve-server-public ../zeek.pub --curve-key ../collector --out ../received.jsonl --until-file ../zeek.done --deadline 90
# @TEST-EXEC: zeek -C -r $TRACES/get.trace $FILES/zmq-endpoint.zeek %INPUT >zeek.out 2>zeek.err || { touch zeek.done; cat zeek.err >&2; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py --json-with-path received.jsonl --paths conn,http,files,packet_filter
# @TEST-EXEC: grep -q '^{"frames": \["{\\"_path\\":\\"http\\",\\"ts\\":\\"2013-03-07T21:42:06.939527Z\\",' received.jsonl
# @TEST-EXEC: grep -q '{\\"_path\\":\\"http\\",.*\\"info_code\\":null' received.jsonl
# @TEST-EXEC: ! grep -i dropped zeek.err

redef LogZeroMQ::message_format = LogZeroMQ::JSON_WITH_PATH;
redef LogZeroMQ::bind = T;
redef LogZeroMQ::curve_secret_key_file = "zeek.key";
redef LogZeroMQ::curve_allowed_clients_file = "collector.pub";
redef LogZeroMQ::wait_for_subscribers = 30sec;

redef LogAscii::json_timestamps = JSON::TS_ISO8601;
redef LogZeroMQ::json_timestamps = JSON::TS_ISO8601;
redef LogAscii::json_include_unset_fields = T;
redef LogZeroMQ::json_include_unset_fields = T;
