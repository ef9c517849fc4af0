##! Options of the ZeroMQ log writer (plugin ``NCSA::ZeroMQWriter``,
##! writer :zeek:see:`Log::WRITER_ZEROMQ`).
##!
##! The writer publishes every log record as a two-part ZeroMQ message:
##! the log path (e.g. ``conn``), then the record as JSON, byte for byte the
##! line Zeek's own JSON logs (:zeek:see:`LogAscii::use_json`) would hold
##! (and a third part, the record's number, with
##! :zeek:see:`LogZeroMQ::sequence_numbers`).
##!
##! This file only declares the options; ``@load NCSA/ZeroMQWriter`` is what
##! adds a ``default-zmq`` filter to the selected log streams. The options
##! marked as such can be overridden per filter through the filter's
##! ``$config`` table, for example
##! ``$config = table(["endpoint"] = "tcp://10.1.2.3:44000")``.

# The declarations are guarded so that this file is harmless if two copies of
# it get loaded (Zeek skips a file loaded before only if it is the same file):
# e.g. the installed plugin's scripts/ and a zkg package copy of them under
# site/packages, or a build directory and the source tree both on ZEEKPATH.
@ifndef ( LogZeroMQ::endpoint )

module LogZeroMQ;

export {
	## ZeroMQ endpoint of the subscriber: ``transport://address``, e.g.
	## ``tcp://localhost:1234``, ``tcp://[::1]:1234`` or
	## ``ipc:///var/run/zeek-logs.sock``. Zeek connects to it and the
	## subscriber binds it, unless :zeek:see:`LogZeroMQ::bind` is set. An empty string (the
	## default) leaves the plugin inactive: ``NCSA/ZeroMQWriter`` then adds
	## no filters. Per-filter ``$config`` key: ``endpoint``.
	const endpoint: string = "" &redef;

	## ZeroMQ high water mark: how many messages a log writer queues in
	## memory for a subscriber that is slow or whose connection was
	## interrupted. Beyond it, messages are dropped. 0 means no limit.
	## (Before any subscriber is connected, messages are dropped anyway;
	## see :zeek:see:`LogZeroMQ::wait_for_subscribers`.)
	## Per-filter ``$config`` key: ``hwm``.
	const zmq_hwm: count = 1000 &redef;

	## How long (in milliseconds) a writer waits at shutdown for queued
	## messages to be sent (in connect mode: and acknowledged by the
	## subscriber's kernel) before counting them as dropped, counted from
	## when Zeek stops the writer: with :zeek:see:`LogZeroMQ::BLOCK` this
	## includes waiting for room for the records Zeek still had queued for
	## it; those that find none after it count as dropped "at shutdown". -1
	## waits forever. Per-filter ``$config`` key: ``linger``.
	const zmq_linger: int = 3000 &redef;

	## How long (in milliseconds) a writer pauses after connecting, before
	## its first message, to let the connection come up (ZeroMQ's "slow
	## joiner" problem). Per-filter ``$config`` key: ``connect_pause``.
	const zmq_connect_pause: int = 0 &redef;

	## How long a new writer holds its first record, in its own thread,
	## until a subscription for its path has arrived, so that subscribers
	## started before Zeek lose nothing to ZeroMQ's "slow joiner" (the
	## connection and the subscription take milliseconds to arrive, a
	## writer's first record microseconds). In connect mode the wait
	## also ends as soon as the subscriber's subscriptions arrived without
	## the writer's path. With no subscriber it lasts the whole time, and
	## the records then count as dropped ("no subscriber"). Zero does not
	## wait. Per-filter ``$config`` key: ``wait_for_subscribers``.
	const wait_for_subscribers: interval = 5sec &redef;

	## Format of ``time`` values in the JSON messages, as
	## :zeek:see:`LogAscii::json_timestamps` (``JSON::TS_MILLIS_UNSIGNED``
	## exists from Zeek 8.0 on).
	## Per-filter ``$config`` key: ``json_timestamps``
	## (e.g. ``"JSON::TS_ISO8601"``).
	const json_timestamps: JSON::TimestampFormat = JSON::TS_EPOCH &redef;

	## If true, unset optional fields appear in the JSON messages as
	## ``null``, as with :zeek:see:`LogAscii::json_include_unset_fields`.
	## Per-filter ``$config`` key: ``json_include_unset_fields``
	## (``"T"``/``"F"``).
	const json_include_unset_fields: bool = F &redef;

	## How often a writer's connections send a ZeroMQ heartbeat (PING) to
	## the peer; 0 sec sends none. Per-filter ``$config`` key:
	## ``heartbeat_interval``.
	const heartbeat_interval: interval = 1sec &redef;

	## A subscriber that answers no heartbeat, acknowledges no data (its host
	## died) or reads nothing (its process hangs) for this long is
	## disconnected, and what was queued for it discarded; a subscriber that
	## connected reconnects by itself. Without it such a subscriber would keep
	## its queue, and its connection, until TCP gives up (about 15 minutes on
	## Linux). Also the TCP keepalive of idle connections. 0 sec: never.
	## Per-filter ``$config`` key: ``heartbeat_timeout``.
	const heartbeat_timeout: interval = 30sec &redef;

	## The kernel's send buffer of each of a writer's TCP connections
	## (``ZMQ_SNDBUF``), in bytes; 0 leaves it to the OS, which on Linux
	## grows it up to the maximum of ``net.ipv4.tcp_wmem`` (4 MiB by
	## default). Linux doubles the value for its bookkeeping and caps it at
	## ``net.core.wmem_max``. Records in it have left the writer but may not
	## have reached the subscriber (in connect mode they count as sent once
	## the subscriber's kernel acknowledged them); the default bounds them
	## without costing throughput on a LAN (at 10 ms round-trip time it
	## allows about 150 Mbit/s per connection; raise it for more, or over
	## longer paths).
	## Per-filter ``$config`` key: ``sndbuf``.
	const sndbuf: count = 131072 &redef;

	## What a writer does when a subscriber is :zeek:see:`LogZeroMQ::zmq_hwm`
	## messages behind.
	type OverflowPolicy: enum {
		## Drop the record, count it, and report the drops (at most once
		## per :zeek:see:`LogZeroMQ::drop_report_interval` per path). With
		## :zeek:see:`LogZeroMQ::bind`, only the subscribers without room
		## miss it; the others get it.
		DROP,
		## Wait until the record can be queued (at most
		## :zeek:see:`LogZeroMQ::block_timeout`): back-pressure into the
		## writer's queue, nothing lost while a subscriber is connected.
		## Once a wait ran out, records do not wait again until the
		## subscribers read again (see :zeek:see:`LogZeroMQ::block_timeout`).
		## With :zeek:see:`LogZeroMQ::bind`, a record that waited in vain goes
		## to the subscribers with room.
		BLOCK,
	};

	## What to do when a subscriber falls behind; see
	## :zeek:see:`LogZeroMQ::OverflowPolicy`. Per-filter ``$config`` key:
	## ``overflow_policy`` (``"LogZeroMQ::BLOCK"``).
	const overflow_policy: OverflowPolicy = DROP &redef;

	## With :zeek:see:`LogZeroMQ::BLOCK`: how long the writer waits for a
	## subscriber without room before records count as dropped after all.
	## It is a budget per stall, not per record: once it ran out, records
	## go out at once to whoever has room, until the subscriber reads
	## again; a subscriber that the heartbeat disconnects and that comes
	## back (a hung process the writer reconnects to) does not start a new
	## one. Zero waits until the subscriber reads, without limit: Zeek
	## queues every record meanwhile, in memory. Once Zeek stops the writer
	## (it terminates), no wait lasts beyond :zeek:see:`LogZeroMQ::zmq_linger`.
	## At most 1 day. Per-filter ``$config`` key: ``block_timeout``.
	const block_timeout: interval = 10sec &redef;

	## At most one warning per log path and interval reports the records
	## dropped since the previous one. Per-filter ``$config`` key:
	## ``drop_report_interval``.
	const drop_report_interval: interval = 1min &redef;

	## If true, Zeek binds :zeek:see:`LogZeroMQ::endpoint` (e.g.
	## ``tcp://*:47000``) and any number of subscribers connect to it; all
	## writers with the same endpoint share the one bound socket. If false
	## (the default), Zeek connects to a subscriber that binds.
	## Per-filter ``$config`` key: ``bind`` (``"T"``/``"F"``).
	const bind: bool = F &redef;

	## If true, every message gets a third part: the record's sequence
	## number and the writer's id, as ASCII, e.g. ``42 9f86d081884c7d65``
	## (the number in decimal, a space, the id as 16 lowercase hex digits).
	## Each writer (one log path of one filter) numbers the records it is
	## given 1, 2, 3, ..., including those it drops, so a subscriber can
	## count what it missed: a gap in the numbers it received. The id is
	## random, drawn when the writer starts: a new id on a path is a new
	## writer (e.g. Zeek restarted), numbering from 1 again, not a gap.
	## ``zeek-zmq sub`` reports the gaps per path. Per-filter ``$config``
	## key: ``sequence_numbers`` (``"T"``/``"F"``).
	const sequence_numbers: bool = F &redef;

	## CURVE (encryption and authentication), connect mode: the
	## subscriber's public key, 40 Z85 characters. Setting it makes Zeek a
	## CURVE client of that subscriber; nothing is sent in plain text.
	## Per-filter ``$config`` key: ``curve_server_public_key``.
	const curve_server_public_key: string = "" &redef;

	## CURVE: a file holding Zeek's secret key (40 Z85 characters, e.g.
	## written by ``zeek-zmq keygen``). It must not be readable by group or
	## others. Required in bind mode (Zeek is the CURVE server); in connect
	## mode it lets the subscriber authenticate Zeek (without it Zeek uses a
	## temporary key pair). Per-filter ``$config`` key:
	## ``curve_secret_key_file``.
	const curve_secret_key_file: string = "" &redef;

	## CURVE: Zeek's public key (Z85). Optional: it is derived from the
	## secret key; if given, it must match it. Per-filter ``$config`` key:
	## ``curve_public_key``.
	const curve_public_key: string = "" &redef;

	## CURVE: Zeek's secret key as a literal (Z85). Discouraged: it ends up
	## in scripts and process memory dumps; use
	## :zeek:see:`LogZeroMQ::curve_secret_key_file`. Meant for tests.
	const curve_secret_key: string = "" &redef;

	## CURVE, bind mode: the public keys (Z85) of the subscribers allowed to
	## connect. With neither this nor
	## :zeek:see:`LogZeroMQ::curve_allowed_clients_file` set, any client
	## that knows Zeek's public key may subscribe.
	## Per-filter ``$config`` key: ``curve_allowed_clients`` (keys separated
	## by spaces or commas).
	const curve_allowed_clients: set[string] = set() &redef;

	## CURVE, bind mode: a file of allowed subscriber public keys, one per
	## line, ``#`` starts a comment. It is read again whenever it changes, so
	## a key added or removed takes effect for the next connection.
	## Per-filter ``$config`` key: ``curve_allowed_clients_file``.
	const curve_allowed_clients_file: string = "" &redef;

	## How a record goes out: see :zeek:see:`LogZeroMQ::message_format`.
	type MessageFormat: enum {
		## Two frames: the log path (e.g. ``conn``), then the record's
		## JSON. Subscriptions match the path.
		PATH_AND_JSON,
		## One frame: the record's JSON with ``"_path":"<path>"`` as its
		## first key, ``{"_path":"conn","ts":...}``: byte for byte Zeek's
		## JSON log line with the path added, for consumers that make one
		## message per frame (rsyslog's ``imczmq``). Subscriptions match
		## the frame's first bytes: ``{"_path":"conn",`` selects ``conn``.
		JSON_WITH_PATH,
	};

	## The messages' format; see :zeek:see:`LogZeroMQ::MessageFormat`.
	## Per-filter ``$config`` key: ``message_format``
	## (``"LogZeroMQ::JSON_WITH_PATH"``).
	const message_format: MessageFormat = PATH_AND_JSON &redef;

	## The log streams to publish. If empty (the default), all streams are
	## published, except those in :zeek:see:`LogZeroMQ::excluded_log_ids`.
	const send_logs: set[Log::ID] = set() &redef;

	## Log streams never published, even if listed in
	## :zeek:see:`LogZeroMQ::send_logs`.
	const excluded_log_ids: set[Log::ID] = set() &redef;
}

@endif
