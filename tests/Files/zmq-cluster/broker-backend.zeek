# Broker as the cluster backend, for zeromqwriter/cluster-loggers.sh
# (Scripts/cluster-node loads this first). Broker is the default backend of
# Zeek 8.0, which has no such script; from 8.1 on, a node started without
# zeekctl must load a backend itself (Cluster::backend is
# CLUSTER_BACKEND_NONE otherwise, and a cluster node stops with a fatal
# error), as zeekctl's Broker plugin does.
@load base/misc/version

@if ( Version::number >= 80100 )
@load policy/frameworks/cluster/backend/broker
@endif
