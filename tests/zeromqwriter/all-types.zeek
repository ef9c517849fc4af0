# @TEST-REQUIRES: which zeek
# @TEST-DOC: Records with every loggable type (odd doubles, times and addresses, strings with any bytes, unset optional fields, vector holes, empty containers, a 1.5 MB string) arrive byte-identical to the JSON log lines; so do those of a stream whose default filter uses exclude, a policy hook, a field name map, a scope separator, extension fields and its own path.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 90
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -b NCSA::ZeroMQWriter $FILES/zmq-endpoint.zeek %INPUT || { touch zeek.done; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl --paths zmq_types,zmq_attrs_renamed

module ZmqTypes;

export {
	redef enum Log::ID += {
		LOG,
		ATTRS_LOG
	};

	type Color: enum {
		RED,
		GREEN,
		BLUE
	};

	type Inner: record {
		n: count &log;
		label: string &log &optional;
	};

	type Info: record {
		b: bool &log;
		i: int &log;
		c: count &log;
		d: double &log;
		t: time &log;
		iv: interval &log;
		s: string &log;
		e: Color &log;
		proto: transport_proto &log;
		a: addr &log;
		sn: subnet &log;
		p: port &log;
		inner: Inner &log;
		opt_inner: Inner &log &optional;
		str_set: set[string] &log;
		addr_set: set[addr] &log;
		port_set: set[port] &log;
		count_vec: vector of count &log;
		str_vec: vector of string &log;
		double_vec: vector of double &log;
		time_vec: vector of time &log;
		interval_vec: vector of interval &log;
		subnet_vec: vector of subnet &log;
		opt_s: string &log &optional;
		opt_c: count &log &optional;
		opt_set: set[port] &log &optional;
		empty_set: set[subnet] &log;
		empty_vec: vector of addr &log;
		fn: function(x: count): count &log &optional;
		fl: file &log &optional;
		not_logged: string &optional;
	};

	type Ext: record {
		sensor: string &log;
		path_seen: string &log;
	};

	global attrs_policy: Log::PolicyHook;
}

redef LogZeroMQ::send_logs = {
	LOG,
	ATTRS_LOG
};

function double_it(x: count): count
	{
	return 2 * x;
	}

function attrs_ext(path: string): Ext
	{
	return Ext($sensor="zmq-test", $path_seen=path);
	}

# Vetoes records with c == 2, for both filters.
hook attrs_policy(rec: Info, id: Log::ID, filter: Log::Filter)
	{
	if ( rec$c == 2 )
		break;
	}

# Strings that exercise Zeek's JSON escaping: plain and escaped ASCII,
# valid UTF-8 that stays raw, and bytes that turn the whole string into \x
# escapes (invalid, truncated, overlong, surrogate, private use, non-character,
# C0/C1 controls, NUL).
global odd_strings: vector of string = vector("", "plain ascii", "tab\there",
    "newline\nand\rcr", "bs\x08 ff\x0c", "quote\" backslash\\ slash/",
    "ctl\x01\x1f del\x7f", "bad\xff\xfe", "caf\xc3\xa9 Gr\xc3\xbc\xc3\x9fe",
    "emoji \xf0\x9f\x98\x80 check \xe2\x9c\x93", "truncated\xe2\x82",
    "surrogate\xed\xa0\x80", "private\xee\x80\x80", "nonchar\xef\xbf\xbf",
    "bom\xef\xbb\xbf", "nul\x00byte", "c1\xc2\x80", "overlong\xc0\xaf",
    "too big\xf4\x90\x80\x80", "valid then bad: caf\xc3\xa9\xff");

function odd_doubles(): vector of double
	{
	local inf = exp(1000.0);
	return vector(0.0, -0.0, 1.0, -1.0, 3.14, 0.1 + 0.2, 1e20, 1e21, 1e-6, 1e-7,
	    123456789012345678.0, 5e-324, 2.2250738585072014e-308,
	    1.7976931348623157e308, 1.0 / 3.0, 2.0 / 3.0, 100.0, 1234567.125,
	    inf, -inf, inf - inf);
	}

function odd_times(): vector of time
	{
	return vector(double_to_time(0.0), double_to_time(-1.5), double_to_time(
	    1.9999996), double_to_time(1700000000.123456), double_to_time(
	    1700000000.9999995), double_to_time(-0.0000001), double_to_time(
	    4102444800.5));
	}

function base_record(c: count): Info
	{
	return Info($b=T, $i=-42, $c=c, $d=2.5, $t=double_to_time(1700000000.5), $iv=90sec,
	    $s="hello", $e=GREEN, $proto=tcp, $a=192.168.1.77, $sn=10.0.0.0/8,
	    $p=443/tcp, $inner=Inner($n=7), $str_set=set("a", "b"),
	    $addr_set=set(10.1.2.3, [2001:db8::1]), $port_set=set(53/udp,
	    80/tcp, 8/icmp), $count_vec=vector(1, 2, 3), $str_vec=vector("x",
	    "y"), $double_vec=vector(0.5), $time_vec=vector(double_to_time(
	    1.0)), $interval_vec=vector(1msec), $subnet_vec=vector([2001:db8::]/32),
	    $empty_set=set(), $empty_vec=vector());
	}

function write_all(id: Log::ID)
	{
	# 1: every field set, optional ones too.
	local r = base_record(1);
	r$opt_inner = Inner($n=0, $label="inner label");
	r$opt_s = "optional string";
	r$opt_c = 0;
	r$opt_set = set();
	r$fn = double_it;
	r$fl = open("zmq-types-file-field.txt");
	r$not_logged = "must not appear";
	Log::write(id, r);

	# 2: vetoed by the policy hook of the second stream.
	Log::write(id, base_record(2));

	# 3: extreme numbers, IPv6 forms, unset optionals, holes.
	r = base_record(3);
	r$b = F;
	r$i = to_int("-9223372036854775808");
	r$c = 18446744073709551615;
	r$d = -0.0;
	r$t = double_to_time(-1.5);
	r$iv = -2.5sec;
	r$e = BLUE;
	r$proto = udp;
	r$a = [::2];
	r$sn = [2001:db8:0:0:1::]/80;
	r$p = 0/unknown;
	local holes: vector of count = vector(10);
	holes[3] = 13;
	r$count_vec = holes;
	local str_holes: vector of string = vector();
	str_holes[2] = "third";
	str_holes[4] = "";
	r$str_vec = str_holes;
	r$opt_c = 18446744073709551615;
	Log::write(id, r);

	# 4: odd doubles and times.
	r = base_record(4);
	r$d = 1e21;
	r$t = double_to_time(1.9999996);
	r$iv = 1usec;
	r$double_vec = odd_doubles();
	r$time_vec = odd_times();
	r$interval_vec = vector(0sec, -1usec, 1day, 0.1sec);
	r$a = [::ffff:1.2.3.4];
	r$addr_set = set([::], [fe80::1], [2001:db8:0:0:1:0:0:1], [::1.2.3.4],
	    [1:0:0:2:0:0:0:3]);
	r$subnet_vec = vector(0.0.0.0/0, [::]/0, 192.168.1.77/32, [fe80::]/10,
	    172.16.5.4/20);
	Log::write(id, r);

	# 5: one record per odd string, in a plain field and in containers.
	local n = 100;
	for ( k in odd_strings )
		{
		++n;
		r = base_record(n);
		r$s = odd_strings[k];
		r$opt_s = odd_strings[k];
		r$str_set = set(odd_strings[k]);
		r$str_vec = vector(odd_strings[k], "plain", odd_strings[k]);
		r$inner = Inner($n=k, $label=odd_strings[k]);
		Log::write(id, r);
		}

	# 6: all odd strings in one set and one vector.
	r = base_record(6);
	r$str_set = set();
	for ( k in odd_strings )
		add r$str_set[odd_strings[k]];
	r$str_vec = odd_strings;
	Log::write(id, r);

	# 7: a record larger than a megabyte.
	r = base_record(7);
	r$s = string_fill(1500000, "0123456789abcdef");
	r$str_vec = vector(string_fill(100000, "\xff"));
	Log::write(id, r);
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_types"));
	Log::create_stream(ATTRS_LOG, Log::Stream($columns=Info, $path="zmq_attrs"));

	# Change the second stream's default filter in place, the way Zeek's
	# own scripts do (e.g. SSL's exclude of subject/issuer): the ZeroMQ
	# filter, added later, must copy all of it.
	local f = Log::get_filter(ATTRS_LOG, "default");
	f$path = "zmq_attrs_renamed";
	# Field names are joined with the scope separator.
	f$exclude = set("b", "inner_label", "not_logged");
	f$scope_sep = "_";
	f$field_name_map = table(["inner_n"] = "inner_count", ["s"] = "the_string");
	f$ext_func = attrs_ext;
	f$ext_prefix = "_ext_";
	f$policy = attrs_policy;
	Log::add_filter(ATTRS_LOG, f);
	}

# After the ZeroMQ filters were added (priority -5).
event zeek_init() &priority=-10
	{
	write_all(LOG);
	write_all(ATTRS_LOG);
	}
