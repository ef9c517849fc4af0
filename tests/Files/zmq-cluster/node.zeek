##! Every node of the cluster tests (zeromqwriter/cluster-*.sh) runs this
##! script after Files/zmq-endpoint.zeek, the way zeekctl loads the site's
##! local.zeek on every node; Scripts/cluster-node starts a node. The node's
##! name (CLUSTER_NODE) selects what it does:
##!
##! - The workers wait until the manager and both loggers are up. Then
##!   worker-1 reads its trace (-r, --pseudo-realtime) and worker-2 writes
##!   ZmqCluster::A_LOG and C_LOG records.
##! - The manager drives the shutdown: the workers stop by themselves; once
##!   both are down, the manager stops the proxy, then stops logging itself,
##!   then stops both loggers, then itself.
##! - A node stops logging (Log::disable_stream) shortly before it terminates,
##!   so that no record is in flight while nodes go away: whether a record
##!   written at that moment still reaches a logger is up to Zeek's transport,
##!   not the plugin.
##! - Every node prints, in zeek_done, "zeromq-writer-counters N": how many of
##!   the ZeroMQ writer's telemetry counters the process has. The writer
##!   creates them in its constructor, so N = 0 means that no ZeroMQ writer
##!   backend (and so no socket of the plugin) ever existed in the process.
##! - Each logger prints "published zmq_cluster_a N" before it terminates:
##!   its writers' sent counter for that path, once the counter is stable.

@load base/frameworks/telemetry
@load base/protocols/conn
@load base/protocols/http

# The loggers would rotate their logs at shutdown, and run archive-log.
redef Log::default_rotation_interval = 0sec;

# Every node runs until the script terminates it (worker-1 past the end of its
# trace).
redef exit_only_after_terminate = T;

# worker-1's connection ends with FINs in the last packets; it is logged this
# long after them, while worker-1 still runs: with --pseudo-realtime, network
# time goes on after the end of the trace.
redef tcp_close_delay = 1sec;

module ZmqCluster;

export {
	redef enum Log::ID += {
		A_LOG,
		C_LOG
	};

	type Info: record {
		n: count &log;
		node: string &log &default=Cluster::node;
		s: string &log;
	};

	## The manager sends this to a node to make it terminate.
	global finish: event();
}

# Written to disk only. worker-2 writes an A record (two writes: one for the
# disk filter, one for default-zmq) and then a C record (one write): with
# Broker, each write goes to the next logger in turn, so three writes per pair
# make the A records' ZeroMQ copies alternate between the two loggers (with two
# writes per record, one logger would get every disk copy and the other every
# ZeroMQ copy).
redef LogZeroMQ::excluded_log_ids += {C_LOG};

# worker-2 writes this many rounds of this many A and C records each.
const rounds = 10;
const per_round = 6;

global nodes_up: set[string];
global nodes_down: set[string];
global working = F;
global proxy_stopping = F;
global loggers_stopping = F;

# Logger: the "published" counter while waiting for it to settle.
global last_sent = -1.0;
global sent_since = double_to_time(0.0);
global report_deadline = double_to_time(0.0);

function send_finish(node_name: string)
	{
	local topic = Cluster::node_topic(node_name);
@ifdef ( Cluster::publish )
	Cluster::publish(topic, finish);
@else
	Broker::publish(topic, finish);
@endif
	}

# Hands every record written so far to the cluster transport.
function flush_all()
	{
	for ( id in Log::active_streams )
		Log::flush(id);

	Broker::flush_logs();
	}

function stop_logging()
	{
	local ids: set[Log::ID] = set();
	for ( id in Log::active_streams )
		add ids[id];

	for ( id in ids )
		Log::disable_stream(id);
	}

function label(m: Telemetry::Metric, name: string): string
	{
	if ( ! m?$label_values )
		return "";

	for ( i in m$label_names )
		{
		if ( m$label_names[i] == name && i < |m$label_values| )
			return m$label_values[i];
		}

	return "";
	}

# The ZeroMQ writer's counters: zeek_zeromq_writer_records_total{path,result}
# and zeek_zeromq_writer_bytes_total{path}.
function writer_metrics(): vector of Telemetry::Metric
	{
	return Telemetry::collect_metrics("zeek", "zeromq_writer*");
	}

# Records the writers of `path` published (result="sent").
function sent(path: string): double
	{
	local total = 0.0;
	for ( _, m in writer_metrics() )
		{
		if ( m?$value
		    && /records/ in m$opts$name
		    && label(m, "path") == path
		    && label(m, "result") == "sent" )
			total += m$value;
		}

	return total;
	}

event terminate_now()
	{
	terminate();
	}

event worker_done()
	{
	flush_all();
	stop_logging();
	schedule 2sec { terminate_now() };
	}

event write_round(r: count)
	{
	local i = 0;
	local n = 0;
	while ( i < per_round )
		{
		n = r * per_round + i;
		Log::write(A_LOG, Info($n=n, $s=fmt("record %d from %s", n, Cluster::node)));
		Log::write(C_LOG, Info($n=n, $s="disk only"));
		++i;
		}

	# With Zeek 8's ZeroMQ cluster backend, each flush sends one batch per
	# writer to the next logger in turn.
	Log::flush(A_LOG);
	Log::flush(C_LOG);

	if ( r + 1 < rounds )
		schedule 100msec { write_round(r + 1) };
	else
		event worker_done();
	}

event Pcap::file_done(path: string)
	{
	# The connection is logged tcp_close_delay after its last packet.
	schedule 3sec { worker_done() };
	}

event stop_proxy()
	{
	flush_all();
	send_finish("proxy-1");
	}

event finish_loggers()
	{
	send_finish("logger-1");
	send_finish("logger-2");
	}

event stop_loggers()
	{
	# What the manager logged so far (e.g. about the nodes that went down)
	# reaches the loggers before they stop; then it logs nothing more.
	flush_all();
	stop_logging();
	schedule 2sec { finish_loggers() };
	}

# Logger: reports what it published once the counter (updated on the writers'
# heartbeats, about once a second) has not changed for two seconds.
event report_and_terminate()
	{
	local s = sent("zmq_cluster_a");
	local now = current_time();

	if ( s != last_sent )
		{
		last_sent = s;
		sent_since = now;
		}

	if ( ( s > 0.0 && now - sent_since >= 2sec ) || now >= report_deadline )
		{
		print fmt("published zmq_cluster_a %.0f", s);
		terminate();
		return;
		}

	schedule 250msec { report_and_terminate() };
	}

event ZmqCluster::finish()
	{
	if ( Cluster::local_node_type() == Cluster::LOGGER )
		{
		report_deadline = current_time() + 20sec;
		event report_and_terminate();
		return;
		}

	flush_all();
	stop_logging();
	schedule 1sec { terminate_now() };
	}

event zeek_init()
	{
	Log::create_stream(A_LOG, Log::Stream($columns=Info, $path="zmq_cluster_a"));
	Log::create_stream(C_LOG, Log::Stream($columns=Info, $path="zmq_cluster_c"));

	# worker-1 reads its trace only once the loggers are up.
	if ( Cluster::node == "worker-1" )
		suspend_processing();
	}

event Cluster::node_up(name: string, id: string)
	{
	add nodes_up[name];

	if ( working || Cluster::local_node_type() != Cluster::WORKER )
		return;

	# The loggers are in this node's logger pool once they are up (the
	# pool's node_up handler runs first, at priority 10).
	if ( "manager" !in nodes_up
	    || "logger-1" !in nodes_up
	    || "logger-2" !in nodes_up )
		return;

	working = T;

	if ( Cluster::node == "worker-1" )
		continue_processing();
	else
		event write_round(0);
	}

event Cluster::node_down(name: string, id: string)
	{
	add nodes_down[name];

	if ( Cluster::local_node_type() != Cluster::MANAGER )
		return;

	if ( ! proxy_stopping
	    && "worker-1" in nodes_down
	    && "worker-2" in nodes_down )
		{
		proxy_stopping = T;
		schedule 3sec { stop_proxy() };
		}

	if ( ! loggers_stopping && "proxy-1" in nodes_down )
		{
		loggers_stopping = T;
		schedule 3sec { stop_loggers() };
		}

	if ( "logger-1" in nodes_down && "logger-2" in nodes_down )
		terminate();
	}

event zeek_done()
	{
	print fmt("zeromq-writer-counters %d", |writer_metrics()|);
	}
