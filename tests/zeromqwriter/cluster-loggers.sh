# @TEST-REQUIRES: which zeek
# @TEST-DOC: A cluster on one machine, started the way Zeek's own cluster tests start one (cluster-layout.zeek, btest-bg-run per node; Broker as the cluster backend, selected explicitly by Files/zmq-cluster/broker-backend.zeek as Zeek 8.1 and later require): manager, proxy, two loggers, a worker reading a trace and a worker writing records, all loading the plugin with one endpoint, a subscriber that binds it. Every record of the loggers' disk logs is received exactly once, both loggers publish a share, and no other node constructs a ZeroMQ writer (Files/zmq-cluster/node.zeek, Scripts/check-cluster-run.py).
# @TEST-PORT: ZMQ_PORT
# @TEST-PORT: MANAGER_PORT
# @TEST-PORT: LOGGER1_PORT
# @TEST-PORT: LOGGER2_PORT
# @TEST-PORT: PROXY1_PORT
# @TEST-PORT: WORKER1_PORT
# @TEST-PORT: WORKER2_PORT
#
# @TEST-EXEC: cp $FILES/zmq-cluster/cluster-layout.zeek .
#
# The subscriber binds first; it stops once both loggers have exited.
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../loggers.done --deadline 170
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: btest-bg-run loggers-done "($SCRIPTS/wait-for-file ../logger-1/.exitcode 170 && $SCRIPTS/wait-for-file ../logger-2/.exitcode 170; touch ../loggers.done)"
#
# Loggers first, as zeekctl starts them. The manager drives the shutdown.
# @TEST-EXEC: btest-bg-run logger-1 $SCRIPTS/cluster-node logger-1 $FILES/zmq-cluster/broker-backend.zeek
# @TEST-EXEC: btest-bg-run logger-2 $SCRIPTS/cluster-node logger-2 $FILES/zmq-cluster/broker-backend.zeek
# @TEST-EXEC: btest-bg-run manager $SCRIPTS/cluster-node manager $FILES/zmq-cluster/broker-backend.zeek
# @TEST-EXEC: btest-bg-run proxy-1 $SCRIPTS/cluster-node proxy-1 $FILES/zmq-cluster/broker-backend.zeek
# @TEST-EXEC: btest-bg-run worker-1 $SCRIPTS/cluster-node worker-1 -C --pseudo-realtime -r $TRACES/get.trace $FILES/zmq-cluster/broker-backend.zeek
# @TEST-EXEC: btest-bg-run worker-2 $SCRIPTS/cluster-node worker-2 $FILES/zmq-cluster/broker-backend.zeek
# @TEST-EXEC: btest-bg-wait 180
#
# @TEST-EXEC: $PYTHON $SCRIPTS/check-cluster-run.py received.jsonl --loggers logger-1,logger-2 --others manager,proxy-1,worker-1,worker-2 --require http,zmq_cluster_a --unpublished zmq_cluster_c --spread zmq_cluster_a
