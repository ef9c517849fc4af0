# @TEST-REQUIRES: which zeek
# @TEST-DOC: The default-zmq filter is a copy of the stream's default filter with only name, writer, interv, config and postprocessor changed; the default filter itself is unchanged; send_logs/excluded_log_ids and streams without a default filter are honoured. No record is written.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: zeek -b NCSA::ZeroMQWriter %INPUT >output 2>&1 || { cat output >&2; false; }
# @TEST-EXEC: ! grep FAIL output >&2
# @TEST-EXEC: grep -q "all checks done" output || { cat output >&2; false; }

@load base/protocols/ssl
@load NCSA/ZeroMQWriter

# Nothing is written, so nothing connects to this.
redef LogZeroMQ::endpoint = fmt("tcp://127.0.0.1:%d", port_to_count(to_port(
    getenv("ZMQ_PORT"))));

module ZmqCopy;

export {
	redef enum Log::ID += {
		LOG,
		EXCLUDED_LOG,
		NO_DEFAULT_LOG
	};

	type Info: record {
		a: count &log;
		b: string &log;
		nested: conn_id &log &optional;
	};

	type Ext: record {
		sensor: string &log;
	};

	global copy_policy: Log::PolicyHook;
}

redef LogZeroMQ::excluded_log_ids += {EXCLUDED_LOG};

hook copy_policy(rec: Info, id: Log::ID, filter: Log::Filter)
	{ }

function copy_ext(path: string): Ext
	{
	return Ext($sensor="s1");
	}

function postprocess(info: Log::RotationInfo): bool
	{
	return T;
	}

global failures = 0;

function check(ok: bool, what: string)
	{
	if ( ok )
		print fmt("ok   %s", what);
	else
		{
		print fmt("FAIL %s", what);
		++failures;
		}
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_copy"));
	Log::create_stream(EXCLUDED_LOG, Log::Stream($columns=Info,
	    $path="zmq_excluded"));
	Log::create_stream(NO_DEFAULT_LOG, Log::Stream($columns=Info,
	    $path="zmq_no_default"));
	Log::remove_default_filter(NO_DEFAULT_LOG);

	# Give the default filter of LOG a value in every field worth copying.
	local f = Log::get_filter(LOG, "default");
	f$path = "zmq_copy_renamed";
	# Field names are joined with the scope separator.
	f$include = set("a", "nested_orig_h");
	f$exclude = set("b");
	f$field_name_map = table(["a"] = "A");
	f$scope_sep = "_";
	f$ext_prefix = "_x_";
	f$ext_func = copy_ext;
	f$policy = copy_policy;
	f$interv = 1hr;
	f$postprocessor = postprocess;
	f$config = table(["tsv"] = "T");
	Log::add_filter(LOG, f);
	}

# After NCSA/ZeroMQWriter added its filters (priority -5).
event zeek_init() &priority=-10
	{
	local d = Log::get_filter(LOG, "default");
	local z = Log::get_filter(LOG, "default-zmq");

	check("default-zmq" in Log::get_filter_names(LOG),
	    "LOG has a default-zmq filter");
	check(z$name == "default-zmq", "name is default-zmq");
	check(z$writer == Log::WRITER_ZEROMQ, "writer is Log::WRITER_ZEROMQ");
	check(z$interv == 0sec, "interv is 0 sec");
	check(|z$config| == 0, "config is empty");
	check(! z?$postprocessor, "postprocessor is unset");
	check(z?$path && z$path == "zmq_copy_renamed", "path is copied");
	check(z?$include
	    && |z$include| == 2
	    && "a" in z$include
	    && "nested_orig_h" in z$include, "include is copied");
	check(z?$exclude
	    && |z$exclude| == 1
	    && "b" in z$exclude, "exclude is copied");
	check(|z$field_name_map| == 1
	    && "a" in z$field_name_map
	    && z$field_name_map["a"] == "A", "field_name_map is copied");
	check(z$scope_sep == "_", "scope_sep is copied");
	check(z$ext_prefix == "_x_", "ext_prefix is copied");
	check(z?$policy, "policy is copied");
	check(z?$path_func == d?$path_func, "path_func presence is copied");
	check(z$log_local == d$log_local
	    && z$log_remote == d$log_remote, "log_local/log_remote are copied");

	# The default filter must not have been modified through a shared
	# reference.
	check(d$name == "default", "default filter keeps its name");
	check(d$writer == Log::WRITER_ASCII, "default filter keeps its writer");
	check(d$interv == 1hr, "default filter keeps its interv");
	check(d?$postprocessor, "default filter keeps its postprocessor");
	check(|d$config| == 1
	    && d$config["tsv"] == "T", "default filter keeps its config");

	# Changing the copy later must not touch the default either.
	add z$exclude["a"];
	check("a" !in d$exclude, "copy does not share exclude with default");

	check("default-zmq" !in Log::get_filter_names(EXCLUDED_LOG),
	    "excluded stream has no default-zmq filter");
	check("default-zmq" !in Log::get_filter_names(NO_DEFAULT_LOG),
	    "stream without default filter has no default-zmq filter");

	# SSL's scripts exclude subject/issuer from its default filter at
	# priority 5; the copy must have that.
	local s = Log::get_filter(SSL::LOG, "default-zmq");
	check(s$name == "default-zmq", "SSL::LOG has a default-zmq filter");
	check(s?$exclude
	    && "subject" in s$exclude
	    && "issuer" in s$exclude, "SSL::LOG default-zmq excludes subject and issuer");

	# With send_logs empty, every other active stream got one.
	for ( id in Log::active_streams )
		{
		if ( id == EXCLUDED_LOG || id == NO_DEFAULT_LOG )
			next;

		if ( "default" in Log::get_filter_names(id) )
			check("default-zmq" in Log::get_filter_names(id), fmt(
			    "%s has a default-zmq filter", id));
		}

	if ( failures == 0 )
		print "all checks done";
	}
