# @TEST-REQUIRES: which zeek
# @TEST-DOC: In bare mode, "@load NCSA/ZeroMQWriter" alone (plugin not named on the command line) activates the plugin, declares the options and adds the filter.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: zeek -b %INPUT >output 2>&1 || { cat output >&2; false; }
# @TEST-EXEC: grep -q "^ok default-zmq Log::WRITER_ZEROMQ$" output || { cat output >&2; false; }

@load NCSA/ZeroMQWriter

# Nothing is written, so nothing connects to this.
redef LogZeroMQ::endpoint = fmt("tcp://127.0.0.1:%d", port_to_count(to_port(
    getenv("ZMQ_PORT"))));

module ZmqBare;

export {
	redef enum Log::ID += { LOG };

	type Info: record {
		a: count &log;
	};
}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_bare"));
	}

event zeek_init() &priority=-10
	{
	local f = Log::get_filter(LOG, "default-zmq");
	print fmt("ok %s %s", f$name, f$writer);
	}
