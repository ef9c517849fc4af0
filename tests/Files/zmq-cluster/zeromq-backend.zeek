# Zeek 8's ZeroMQ cluster backend instead of Broker, for
# zeromqwriter/cluster-zeromq-backend.sh (Scripts/cluster-node loads this
# first). The manager runs the backend's XPUB/XSUB proxy on the test's ports
# XPUB_PORT and XSUB_PORT, and every node connects to it; the loggers receive
# log writes on their ports from cluster-layout.zeek. The nodes' ZeroMQ log
# writers thus share each process with the backend's sockets and threads.

@load frameworks/cluster/backend/zeromq
@load frameworks/cluster/backend/zeromq/connect

redef Cluster::Backend::ZeroMQ::listen_xpub_endpoint = fmt("tcp://127.0.0.1:%d",
    port_to_count(to_port(getenv("XPUB_PORT"))));
redef Cluster::Backend::ZeroMQ::listen_xsub_endpoint = fmt("tcp://127.0.0.1:%d",
    port_to_count(to_port(getenv("XSUB_PORT"))));

# A node's XPUB socket connects to the proxy's XSUB socket, its XSUB socket
# to the proxy's XPUB socket.
redef Cluster::Backend::ZeroMQ::connect_xpub_endpoint = fmt(
    "tcp://127.0.0.1:%d", port_to_count(to_port(getenv("XSUB_PORT"))));
redef Cluster::Backend::ZeroMQ::connect_xsub_endpoint = fmt(
    "tcp://127.0.0.1:%d", port_to_count(to_port(getenv("XPUB_PORT"))));
