# @TEST-REQUIRES: which zeek
# @TEST-DOC: The default two frames as a Logstash-style subscriber reads them (Scripts/logstash-style-sub.py: frame 1 the topic, frame 2 a JSON event body, into <topic>.log): over several traces with local.zeek, every record of every log arrives exactly once in the file of its topic, byte-identical to Zeek's JSON log line, and nothing else arrives.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: for t in get.trace dns53.pcap smb2.pcap; do bash %INPUT $TRACES/$t || echo $t >>failed; done; test ! -e failed
# @TEST-EXEC: for t in get dns53 smb2; do $PYTHON $SCRIPTS/compare-json-logs.py --logdir $t $t/out || echo $t >>differ; done; test ! -e differ

# One trace: the reader bound in <name>/, Zeek connecting; once the reader
# has as many lines per path as Zeek's logs, it is stopped (SIGTERM).
set -u
name=$(basename "$1")
name=${name%.*}
mkdir "$name" "$name/out" && cd "$name" || exit 1
"$PYTHON" "$SCRIPTS/logstash-style-sub.py" --bind "tcp://127.0.0.1:${ZMQ_PORT%/tcp}" \
    --dir out --ready reader.ready >reader.out 2>&1 &
reader=$!
stop() {
    kill -TERM "$reader"
    wait "$reader"
}
"$SCRIPTS/wait-for-file" reader.ready 30 || { stop; exit 1; }
zeek -C -r "$1" "$FILES/zmq-endpoint.zeek" local LogZeroMQ::overflow_policy=LogZeroMQ::BLOCK \
    >zeek.out 2>zeek.err || { stop; cat zeek.err >&2; exit 1; }
for log in *.log; do
    "$SCRIPTS/wait-for-lines" "out/$log" '^' "$(wc -l <"$log")" 60 || { stop; exit 1; }
done
stop || { cat reader.out >&2; exit 1; }
