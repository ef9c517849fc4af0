# @TEST-REQUIRES: which zeek
# @TEST-DOC: Over every trace in $TRACES, with the site's local.zeek, every log of the run arrives record for record, byte-identical to the JSON log lines (one run per trace, see Scripts/check-trace). With BLOCK: some traces write bursts of thousands of records to one path at shutdown (ssh.trace: 4,977 telemetry records), more than zmq_hwm, which a Python subscriber on a busy machine cannot always keep up with; that DROP then counts and reports those drops is tested elsewhere (drop-warning, the delivery tests), this test is about the bytes.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: for t in $TRACES/*.pcap $TRACES/*.trace; do $SCRIPTS/check-trace "$t" ${ZMQ_PORT%/tcp} local LogZeroMQ::overflow_policy=LogZeroMQ::BLOCK || echo "$t" >>failed; done; test ! -e failed
