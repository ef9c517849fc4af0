##! Log writer benchmark: writes Bench::n conn-like records, in turn to
##! Bench::streams log streams (one filter and so one writer thread each,
##! paths "bench", "bench2", ... "bench5"), with the writer Bench::writer
##! selects, and exits. Timing the whole process (user + system CPU, wall)
##! once per writer and subtracting the ``none`` run gives each writer's
##! cost per record. benches/zeek/run.py does that; by hand:
##!
##!     zeek -b NCSA::ZeroMQWriter benches/zeek/bench.zeek \
##!         -e 'redef Bench::writer = "zeromq"; redef Bench::n = 500000;'
##!
##! with a subscriber bound to Bench::endpoint for ``zeromq`` and
##! ``zeromq-1f``. Writers:
##! ``none`` (Log::WRITER_NONE: the logging framework without a writer),
##! ``ascii`` (TSV), ``json`` (the ASCII writer with use_json), ``zeromq``
##! (this plugin, which needs the plugin activated: name it on the command
##! line as above, or leave out -b), ``zeromq-1f`` (this plugin with
##! ``message_format`` ``JSON_WITH_PATH``: one frame per record, not two).
##! Bench::pad adds a string field of that
##! many characters to every record (the conn-like record alone is about
##! 400 bytes of JSON).

@load base/frameworks/logging

module Bench;

export {
	redef enum Log::ID += {
		LOG,
		LOG2,
		LOG3,
		LOG4,
		LOG5
	};

	## How many records to write, in all streams together.
	const n = 500000 &redef;

	## How many streams to write to at once (1 to 5): record i goes to
	## stream i % streams.
	const streams = 1 &redef;

	## Characters of padding per record (the ``pad`` field; 0: none).
	const pad = 0 &redef;

	## ``none``, ``ascii``, ``json``, ``zeromq`` or ``zeromq-1f``.
	const writer = "none" &redef;

	## Where the ZeroMQ writer connects; a subscriber binds it.
	const endpoint = "tcp://127.0.0.1:5599" &redef;

	## The ZeroMQ writer waits this long for the subscriber before the
	## first record.
	const wait_for_subscribers = "10" &redef;

	type Endpoints: record {
		orig_h: addr &log;
		orig_p: port &log;
		resp_h: addr &log;
		resp_p: port &log;
	};

	## The fields and types of conn.log.
	type Info: record {
		ts: time &log;
		uid: string &log;
		id: Endpoints &log;
		proto: transport_proto &log;
		service: string &log &optional;
		duration: interval &log &optional;
		orig_bytes: count &log &optional;
		resp_bytes: count &log &optional;
		conn_state: string &log &optional;
		local_orig: bool &log &optional;
		local_resp: bool &log &optional;
		missed_bytes: count &log &default=0;
		history: string &log &optional;
		orig_pkts: count &log &optional;
		orig_ip_bytes: count &log &optional;
		resp_pkts: count &log &optional;
		resp_ip_bytes: count &log &optional;
		tunnel_parents: set[string] &log &optional;
		ip_proto: count &log &optional;
		## Bench::pad characters of printable ASCII (none to escape).
		pad: string &log &optional;
	};
}

@ifdef ( Log::WRITER_ZEROMQ )
function zeromq_filter(f: Log::Filter, format: string): Log::Filter
	{
	f$writer = Log::WRITER_ZEROMQ;
	# Unbounded queue and linger: every record reaches the subscriber.
	local c: table[string] of string = table();
	c["endpoint"] = endpoint;
	c["hwm"] = "0";
	c["linger"] = "-1";
	c["wait_for_subscribers"] = wait_for_subscribers;
	c["message_format"] = format;
	f$config = c;
	return f;
	}
@else
function zeromq_filter(f: Log::Filter, format: string): Log::Filter
	{
	Reporter::fatal("Bench::writer = zeromq needs the plugin: zeek -b NCSA::ZeroMQWriter ...");
	return f;
	}
@endif

## n characters of text, different for each i.
function padding(n: count, i: count): string
	{
	local words = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ";
	local text = fmt("%02d ", i);
	while ( |text| < n )
		text += words;
	return sub_bytes(text, 1, n);
	}

## A few different records, written in turn (with their own timestamps).
function make_pool(): vector of Info
	{
	local pool: vector of Info = vector();
	local services = vector("http", "dns", "ssl", "");
	local states = vector("SF", "S0", "RSTO", "OTH");
	local histories = vector("ShADadFf", "D", "ShADadttfF", "Dd");
	local i = 0;
	while ( i < 16 )
		{
		local id = Endpoints($orig_h=count_to_v4_addr(167772160 + i * 7919),
		    $orig_p=count_to_port(49152 + i * 977, tcp),
		    $resp_h=192.150.187.43, $resp_p=count_to_port(443, tcp));
		if ( i % 4 == 3 )
			id$resp_h = [2001:db8::1];
		if ( i % 2 == 0 )
			id$resp_p = 80/tcp;
		local uid = fmt("CHhAvVGS1DHFjwGM%02d", i);
		local r = Info($ts=double_to_time(1700000000.0), $uid=uid, $id=id,
		    $proto=tcp);
		if ( services[i % 4] != "" )
			r$service = services[i % 4];
		r$duration = double_to_interval(0.000123 * ( i + 1 ) * ( i + 1 ) * 37.0);
		r$orig_bytes = 136 * ( i + 1 );
		r$resp_bytes = 5007 * ( i * i + 1 );
		r$conn_state = states[i % 4];
		r$local_orig = i % 2 == 0;
		r$local_resp = F;
		r$history = histories[i % 4];
		r$orig_pkts = 7 + i;
		r$orig_ip_bytes = 512 + 40 * i;
		r$resp_pkts = 7 + 2 * i;
		r$resp_ip_bytes = 5379 * ( i + 1 );
		r$ip_proto = 6;
		if ( pad > 0 )
			r$pad = padding(pad, i);
		pool += r;
		++i;
		}
	return pool;
	}

global ids: vector of Log::ID = vector(LOG, LOG2, LOG3, LOG4, LOG5);

event zeek_init() &priority=10
	{
	if ( streams < 1 || streams > |ids| )
		Reporter::fatal(fmt("Bench::streams must be 1 to %d", |ids|));

	local f: Log::Filter = [$name="bench"];
	switch ( writer )
		{
		case "none":
			f$writer = Log::WRITER_NONE;
			break;
		case "ascii":
			f$writer = Log::WRITER_ASCII;
			f$config = table(["use_json"] = "F");
			break;
		case "json":
			f$writer = Log::WRITER_ASCII;
			f$config = table(["use_json"] = "T");
			break;
		case "zeromq":
			f = zeromq_filter(f, "LogZeroMQ::PATH_AND_JSON");
			break;
		case "zeromq-1f":
			f = zeromq_filter(f, "LogZeroMQ::JSON_WITH_PATH");
			break;
		default:
			Reporter::fatal(fmt("unknown Bench::writer \"%s\"", writer));
			break;
		}

	local s = 0;
	while ( s < streams )
		{
		local path = s == 0 ? "bench" : fmt("bench%d", s + 1);
		Log::create_stream(ids[s], [$columns=Info, $path=path]);
		Log::remove_default_filter(ids[s]);
		f$path = path;
		Log::add_filter(ids[s], f);
		++s;
		}
	}

event zeek_init()
	{
	local pool = make_pool();
	local base = 1700000000.0;
	local i = 0;
	while ( i < n )
		{
		local r = pool[i % 16];
		r$ts = double_to_time(base + i * 0.000137);
		Log::write(ids[i % streams], r);
		++i;
		}
	}
