# @TEST-REQUIRES: which zeek
# @TEST-DOC: The README's zeekctl recipe: the built plugin installed ("make install" rules) into a private copy of the Zeek installation (Scripts/zeekctl-sandbox), node.cfg with a logger, a manager, a proxy and a worker sniffing lo, the README's two lines in site/local.zeek, "zeekctl deploy", HTTP traffic on lo, "zeekctl stop". Every record of the logs zeekctl archived was received exactly once by a subscriber bound before the deploy, only the logger constructed ZeroMQ writers, and every node loaded the installed plugin.
# @TEST-PORT: ZMQ_PORT
# @TEST-PORT: HTTP_PORT
# zeekctl gives the nodes five consecutive ports from ZeekPort on (a control
# slot, then manager, logger, proxy, worker): nine @TEST-PORTs hold a run of
# five even if btest skipped a busy port (Scripts/consecutive-ports).
# @TEST-PORT: ZEEKCTL_PORT_1
# @TEST-PORT: ZEEKCTL_PORT_2
# @TEST-PORT: ZEEKCTL_PORT_3
# @TEST-PORT: ZEEKCTL_PORT_4
# @TEST-PORT: ZEEKCTL_PORT_5
# @TEST-PORT: ZEEKCTL_PORT_6
# @TEST-PORT: ZEEKCTL_PORT_7
# @TEST-PORT: ZEEKCTL_PORT_8
# @TEST-PORT: ZEEKCTL_PORT_9
#
# The Zeek installation with the plugin installed, and its zeekctl set up.
# @TEST-EXEC: $SCRIPTS/zeekctl-sandbox sandbox
# @TEST-EXEC: bash configure-zeekctl.sh
#
# The subscriber binds first; it stops once "zeekctl stop" has returned.
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeekctl.stopped --deadline 150
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
#
# deploy, traffic, stop (always, and so the subscriber's end).
# @TEST-EXEC: bash run-cluster.sh
# @TEST-EXEC: btest-bg-wait 160
#
# What zeekctl archived, per node, checked as the other cluster tests' runs.
# @TEST-EXEC: mkdir nodes && cd nodes && $PYTHON $SCRIPTS/unpack-zeekctl-logs.py "$(cat ../sandbox/prefix)/logs" --logger logger-1 --nodes manager,proxy-1,worker-1
# @TEST-EXEC: cd nodes && $PYTHON $SCRIPTS/check-cluster-run.py ../received.jsonl --loggers logger-1 --others manager,proxy-1,worker-1 --require http,conn,files,software,cluster,loaded_scripts --plugin-dir "$(cat ../sandbox/plugin)"

@TEST-START-FILE configure-zeekctl.sh
# Configures the sandbox's zeekctl: zeekctl.cfg, node.cfg, and the README's
# lines (plus the test's) at the end of the shipped site/local.zeek.
set -eu
zeek=$(cat sandbox/prefix)
zeek_port=$("$SCRIPTS"/consecutive-ports 5 \
    "$ZEEKCTL_PORT_1" "$ZEEKCTL_PORT_2" "$ZEEKCTL_PORT_3" "$ZEEKCTL_PORT_4" \
    "$ZEEKCTL_PORT_5" "$ZEEKCTL_PORT_6" "$ZEEKCTL_PORT_7" "$ZEEKCTL_PORT_8" \
    "$ZEEKCTL_PORT_9")

# zeekctl's defaults, except:
cat >"$zeek/etc/zeekctl.cfg" <<EOF
# The nodes' ports (Broker), consecutive from here.
ZeekPort = $zeek_port
# No Prometheus endpoints (9991 and up by default).
MetricsPort = 0
# Broker, Zeek 8.0's default, stated: with Zeek's ZeroMQ backend, the manager
# would listen on ports 5555 and 5556, and with UseWebSocket on 27759, which
# every test would share.
ClusterBackend = Broker
UseWebSocket = 0
LogDir = $zeek/logs
SpoolDir = $zeek/spool
CfgDir = $zeek/etc
# "zeekctl stop" returns once every node's logs are archived in LogDir, and
# kills a node still running after 30 s (instead of 60).
StopWait = 1
StopTimeout = 30
# No mail, and no connection summaries (trace-summary's text report, which
# would be archived next to the logs as conn-summary.*.log).
SendMail =
TraceSummary =
EOF

cat >"$zeek/etc/node.cfg" <<EOF
[logger-1]
type=logger
host=localhost

[manager]
type=manager
host=localhost

[proxy-1]
type=proxy
host=localhost

[worker-1]
type=worker
host=localhost
interface=lo
EOF

cat >>"sandbox/root$(zeek-config --site_dir)/local.zeek" <<EOF

# The README's lines (section "Clusters (zeekctl)"), with the test's subscriber.
@load NCSA/ZeroMQWriter
redef LogZeroMQ::endpoint = "tcp://127.0.0.1:${ZMQ_PORT%/tcp}";

# The test's own: JSON logs, to compare with what was received; no checksum
# checks (lo's packets have none computed); only the test's HTTP traffic, not
# that of the other tests on lo; per-node reports (stdout, .log_suffix).
redef LogAscii::use_json = T;
redef ignore_checksums = T;
redef restrict_filters += { ["zeekctl-test"] = "tcp port ${HTTP_PORT%/tcp}" };
@load $FILES/zmq-zeekctl/node-report.zeek
EOF
@TEST-END-FILE

@TEST-START-FILE run-cluster.sh
# zeekctl deploy, HTTP traffic the worker sees, zeekctl stop. The nodes are
# zeekctl's daemons, not btest's background processes: whatever happens, the
# EXIT trap stops them (and kills any that zeekctl could not stop), then
# creates zeekctl.stopped for the subscriber.
set -eu
zeekctl=$PWD/sandbox/zeekctl
spool=$(cat sandbox/prefix)/spool
nodes="logger-1 manager proxy-1 worker-1"

show() {
    echo "== $1" >&2
    cat "$1" >&2 || true
}

stop_cluster() {
    status=$?
    trap - EXIT
    if ! "$zeekctl" stop >stop.out 2>&1; then
        show stop.out
        status=1
    fi
    # A node killed (after StopTimeout) or crashed lost its shutdown.
    if grep -Eiq 'kill|crash|error|fail' stop.out; then
        show stop.out
        status=1
    fi
    for node in $nodes; do
        if [ -s "$spool/$node/.pid" ] && kill -0 "$(cat "$spool/$node/.pid")" 2>/dev/null; then
            echo "$node still running after zeekctl stop: killing it" >&2
            kill -9 "$(cat "$spool/$node/.pid")" || true
            status=1
        fi
    done
    touch zeekctl.stopped
    exit $status
}
trap stop_cluster EXIT

# deploy = check (parses every node's scripts), install, restart: the nodes
# start loggers first. It fails if a node does not come up.
"$zeekctl" deploy >deploy.out 2>&1 || { show deploy.out; exit 1; }
"$zeekctl" status >status.out 2>&1 || { show status.out; exit 1; }
[ "$(grep -cw running status.out)" = 4 ] || { show status.out; exit 1; }

# The worker sniffs lo, and it has a logger for its log writes (before it has
# one, its records go nowhere: neither to disk nor to the subscriber).
"$SCRIPTS"/wait-for-lines "$spool/worker-1/stderr.log" '^listening on lo$' 1 30
"$SCRIPTS"/wait-for-lines "$spool/logger-1/cluster.log" '"node":"worker-1","message":"got hello from logger-1 ' 1 30

"$PYTHON" "$SCRIPTS"/http-traffic.py "$HTTP_PORT" --requests 3 >traffic.out

# The logger has written the records of the three requests to disk before
# the nodes stop: the HTTP records at once, the conn records once Zeek
# removes the closed connections (tcp_close_delay, 5 s). Records that a worker
# writes while it stops may or may not reach the logger: what the test
# requires is there before.
"$SCRIPTS"/wait-for-lines "$spool/logger-1/http.log" \
    "\"id.resp_p\":${HTTP_PORT%/tcp},.*\"user_agent\":\"zeromqwriter-test/1.0\"" 3 30
"$SCRIPTS"/wait-for-lines "$spool/logger-1/conn.log" "\"id.resp_p\":${HTTP_PORT%/tcp}," 3 30
@TEST-END-FILE
