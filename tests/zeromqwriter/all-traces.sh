# @TEST-REQUIRES: which zeek
# @TEST-DOC: Over every trace in $TRACES, with the site's local.zeek, every log of the run arrives record for record, byte-identical to the JSON log lines (one run per trace, see Scripts/check-trace).
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: for t in $TRACES/*.pcap $TRACES/*.trace; do $SCRIPTS/check-trace "$t" ${ZMQ_PORT%/tcp} local || echo "$t" >>failed; done; test ! -e failed
