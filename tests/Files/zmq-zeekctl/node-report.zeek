##! Test instrumentation of zeromqwriter/zeekctl-deploy.sh, which the site's
##! local.zeek loads on every node after the README's lines; not part of the
##! recipe. Each node that zeekctl starts:
##!
##! - writes a ".log_suffix" file with its name into its working directory:
##!   zeekctl's post-terminate script then archives the node's stdout.log and
##!   stderr.log as stdout.<from>-<to>-<node>.log (and so on) instead of
##!   under one name for all nodes. It is zeekctl's own mechanism for several
##!   loggers (zeekctl/logging.zeek writes the file on loggers when there are
##!   more than one, and removes it otherwise: this handler runs after that).
##! - prints, in zeek_done, "zeromq-writer-counters N" (how many of the ZeroMQ
##!   writer's telemetry counters the process has: the writer creates them in
##!   its constructor, so N = 0 means that no ZeroMQ writer existed in the
##!   process; as Files/zmq-cluster/node.zeek does) and one
##!   "zeromq-writer-script PATH" line per loaded script of the plugin (a path
##!   containing "ZeroMQWriter"): which installation of the plugin the node
##!   loaded.

@load base/frameworks/cluster
@load base/frameworks/telemetry

module ZmqZeekctl;

global plugin_scripts: vector of string;

event zeek_script_loaded(path: string, level: count)
	{
	if ( /ZeroMQWriter/ in path )
		plugin_scripts += path;
	}

event zeek_init() &priority=-10
	{
	local f = open(".log_suffix");
	print f, Cluster::node;
	close(f);
	}

event zeek_done()
	{
	print fmt("zeromq-writer-counters %d", |Telemetry::collect_metrics("zeek",
	    "zeromq_writer*")|);

	for ( _, path in plugin_scripts )
		print fmt("zeromq-writer-script %s", path);
	}
