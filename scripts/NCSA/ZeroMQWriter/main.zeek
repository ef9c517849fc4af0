##! Publishes Zeek's log streams through ZeroMQ.
##!
##! When :zeek:see:`LogZeroMQ::endpoint` is not empty, every active log stream
##! selected by :zeek:see:`LogZeroMQ::send_logs` and
##! :zeek:see:`LogZeroMQ::excluded_log_ids` that has a filter named
##! ``default`` gets a second filter named ``default-zmq``: a copy of the
##! ``default`` filter (same fields, include/exclude sets, policy hook, field
##! name map, scope separator, extension fields and path), written by
##! :zeek:see:`Log::WRITER_ZEROMQ`, never rotated, and with an empty
##! ``$config`` table so that the global ``LogZeroMQ`` options apply. A
##! subscriber therefore sees exactly the records and fields of the disk logs.
##!
##! The filters are added in a :zeek:see:`zeek_init` handler of priority -5:
##! records written before that, and streams created or default filters
##! changed after it, are not covered.

# Activates the plugin if it is not active yet (bare mode); a no-op otherwise.
@load-plugin NCSA::ZeroMQWriter

# The options are normally declared already: the plugin loads its
# scripts/__load__.zeek when it is activated. When the @load-plugin above is
# what activated it, Zeek 8 loads that file right away, but Zeek 7 only queues
# it until this file is done, so load the declarations here if needed. Zeek
# loads a file only once (by canonical path), and init.zeek guards itself too.
@ifndef ( LogZeroMQ::endpoint )
@load ../../init
@endif

module LogZeroMQ;

# Two copies of this file may load: the plugin's own (@load NCSA/ZeroMQWriter)
# and a zkg package's copy (@load packages). The first one counts.
@ifndef ( stream_selected )

# Whether a stream passes send_logs and excluded_log_ids.
function stream_selected(stream_id: Log::ID): bool
	{
	if ( stream_id in excluded_log_ids )
		return F;

	return |send_logs| == 0 || stream_id in send_logs;
	}

# In a cluster this runs on every node, and it must: only a node with
# Log::enable_local_logging (a logger, the manager when there is no logger, a
# standalone Zeek) instantiates writer backends, so only there do ZeroMQ
# writers exist and open sockets; but the filters of the node that writes a
# record (a worker, say) decide what it sends to the loggers. Without
# default-zmq there, the loggers would get that node's records for the disk
# logs only. A logger needs the filter too: for what it logs itself, and with
# Zeek 8's ZeroMQ cluster backend a logger hands received writes to its own
# filter of the same name. Hence no check of Log::enable_local_logging here,
# and the endpoint must be set on every node (a logger's options are the ones
# its writers use).
event zeek_init() &priority=-5
	{
	if ( endpoint == "" )
		return;

	for ( stream_id in Log::active_streams )
		{
		if ( ! stream_selected(stream_id) )
			next;

		# Nothing to mirror if a script removed the default filter.
		if ( "default" !in Log::get_filter_names(stream_id) )
			next;

		# Log::get_filter() returns the framework's stored record, not a
		# copy: modifying it in place would change the disk filter's record.
		local filter = copy(Log::get_filter(stream_id, "default"));

		filter$name = "default-zmq";
		filter$writer = Log::WRITER_ZEROMQ;
		# Rotation makes no sense for a socket.
		filter$interv = 0sec;
		# The default filter's config holds keys for the ASCII writer.
		filter$config = table();

		# Only used on rotation, which is off; drop it anyway.
		if ( filter?$postprocessor )
			delete filter$postprocessor;

		if ( ! Log::add_filter(stream_id, filter) )
			Reporter::warning(fmt("LogZeroMQ: cannot add filter default-zmq to log stream %s",
			    stream_id));
		}
	}

@endif
