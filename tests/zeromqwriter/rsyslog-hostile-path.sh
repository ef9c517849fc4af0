# @TEST-REQUIRES: which rsyslogd && ls /usr/lib/*/rsyslog/imczmq.so
# @TEST-DOC: The rsyslog configuration of the docs (Files/rsyslog-zeek.conf) keeps every record inside its directory: frames whose "_path" holds "/", "." or ".." (from anyone who can reach rsyslog's socket) land in files named with "_" inside it, never elsewhere.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: mkdir -p box/out box/work && sed -e "s|@WORK_DIR@|$PWD/box/work|g" -e "s|@OUT_DIR@|$PWD/box/out|g" -e "s|@ENDPOINTS@|@tcp://127.0.0.1:${ZMQ_PORT%/tcp}|g" $FILES/rsyslog-zeek.conf >rsyslog.conf
# @TEST-EXEC: bash %INPUT
# @TEST-EXEC: (cd box && find . -type f -not -path './work/*' | sort) >files
# @TEST-EXEC: diff expected-files files

# @TEST-START-FILE expected-files
./out/.._.._escaped2.log
./out/.._escaped.log
./out/_..log
./out/_.log
./out/_abs.log
./out/a_b.log
./out/last.log
# @TEST-END-FILE

set -u
timeout 60 rsyslogd -n -f rsyslog.conf -i "$PWD/box/work/rsyslogd.pid" >rsyslogd.out 2>&1 &
rsyslog_pid=$!
# A publisher connects, waits for imczmq's subscription, and sends frames
# with hostile paths, then a last one to wait for.
"$PYTHON" - "tcp://127.0.0.1:${ZMQ_PORT%/tcp}" <<'PY' || { kill "$rsyslog_pid"; exit 1; }
import sys
import zmq

sock = zmq.Context().socket(zmq.XPUB)
sock.setsockopt(zmq.LINGER, 5000)
sock.connect(sys.argv[1])
if not sock.poll(30000):
    sys.exit("no subscription from rsyslog within 30 s")
sock.recv()
for path in ["../escaped", "../../escaped2", "a/b", "..", ".", "/abs", "last"]:
    sock.send(('{"_path":"%s","n":1}' % path).encode())
sock.close()
PY
$SCRIPTS/wait-for-lines box/out/last.log '^' 1 30 || { kill "$rsyslog_pid"; cat rsyslogd.out; exit 1; }
kill -TERM "$rsyslog_pid"
wait "$rsyslog_pid"
