# Cluster::nodes of the cluster tests (zeromqwriter/cluster-*.sh): a manager,
# a proxy, two loggers and two workers, all on 127.0.0.1, with the ports the
# test reserved with @TEST-PORT. A test copies this file into its directory as
# cluster-layout.zeek, which the cluster framework loads (Scripts/cluster-node
# puts that directory on ZEEKPATH), as in Zeek's own cluster tests. With
# Broker, every node listens on its port; with Zeek 8's ZeroMQ cluster backend,
# the loggers receive log writes on theirs and the other ports are unused.

# There are loggers: the manager does not write logs (zeekctl writes the same
# line into the cluster-layout.zeek it generates when node.cfg has a logger).
redef Cluster::manager_is_logger = F;

redef Cluster::nodes = {
	["manager"] = [$node_type=Cluster::MANAGER, $ip=127.0.0.1, $p=to_port(getenv(
	    "MANAGER_PORT"))],
	["logger-1"] = [$node_type=Cluster::LOGGER, $ip=127.0.0.1, $p=to_port(getenv(
	    "LOGGER1_PORT")), $manager="manager"],
	["logger-2"] = [$node_type=Cluster::LOGGER, $ip=127.0.0.1, $p=to_port(getenv(
	    "LOGGER2_PORT")), $manager="manager"],
	["proxy-1"] = [$node_type=Cluster::PROXY, $ip=127.0.0.1, $p=to_port(getenv(
	    "PROXY1_PORT")), $manager="manager"],
	["worker-1"] = [$node_type=Cluster::WORKER, $ip=127.0.0.1, $p=to_port(getenv(
	    "WORKER1_PORT")), $manager="manager"],
	["worker-2"] = [$node_type=Cluster::WORKER, $ip=127.0.0.1, $p=to_port(getenv(
	    "WORKER2_PORT")), $manager="manager"],
};
