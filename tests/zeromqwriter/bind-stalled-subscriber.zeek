# @TEST-REQUIRES: which zeek
# @TEST-DOC: Bind mode with two subscribers, one of which stops reading, and overflow_policy BLOCK: the stalled one holds the writer back once, for block_timeout, and the live one still receives every record, byte-identical to the JSON log; the writer warns about the drops with the hwm that applies, its shutdown totals count every record written (the ones the live subscriber got) as sent or dropped, with the stalled subscriber's share dropped; and Zeek exits within zmq_linger + 1 s of terminate().
# @TEST-PORT: ZMQ_PORT
#
# Both subscribers connect and keep trying until Zeek binds. The live one is
# zeek-zmq sub, writing each path's records to live/<path>.log; the first
# probe it wrote means Zeek's socket has its subscription. The stalled one
# creates its ready file once it received a probe, and then never reads.
# zeek-zmq sub stops, flushing its files, on SIGTERM (sent to it, the child
# of btest-bg-run's shell, once it has every record or Zeek failed).
# @TEST-EXEC: btest-bg-run live $ZEEK_ZMQ sub --connect -e tcp://127.0.0.1:${ZMQ_PORT%/tcp} --dir ../live
# @TEST-EXEC: btest-bg-run stalled $PYTHON $SCRIPTS/zmq-stall-sub.py --connect tcp://127.0.0.1:${ZMQ_PORT%/tcp} --ready ../stalled.ready --ready-on-message --until-file ../zeek.done --deadline 110
# @TEST-EXEC: zeek -b NCSA::ZeroMQWriter $FILES/zmq-endpoint.zeek %INPUT >zeek.out 2>zeek.err || { touch zeek.done; pkill -TERM -x -P $(cat live/.pid) zeek-zmq; cat zeek.err >&2; false; }; date +%s.%N >zeek.exited
# @TEST-EXEC: touch zeek.done && $SCRIPTS/wait-for-lines live/zmq_stall.log '^' 10000 30; pkill -TERM -x -P $(cat live/.pid) zeek-zmq && btest-bg-wait 60
# @TEST-EXEC: grep -q "^subscribers ready" zeek.out || { cat zeek.out >&2; false; }
#
# The live subscriber got every record, byte for byte.
# @TEST-EXEC: cmp zmq_stall.log live/zmq_stall.log
#
# Zeek's shutdown waited for the stalled subscriber's queue no longer than
# zmq_linger (1 s), plus a second for the rest of it.
# @TEST-EXEC: $PYTHON -c 'import sys; t = float(open("zeek.out").read().split("terminate at ")[1].split()[0]); e = float(open("zeek.exited").read()); sys.exit(0 if e - t < 2.0 else f"exited {e - t:.2f} s after terminate()")'
#
# The drops, and the totals: all 10000 written, the stalled subscriber's share
# dropped for it (as "slow subscriber", still queued for it when linger ran
# out, or found without room once zmq_linger had passed after terminate()),
# the rest sent.
# The warning names the one cause (no "no subscriber" part) and, the policy
# being BLOCK, what helps when its wait runs out.
# @TEST-EXEC: grep -Eq '^warning: zmq_stall/Log::WRITER_ZEROMQ: dropped [0-9]+ records? since the last report \([0-9]+ of [0-9]+ records? so far\): [0-9]+ with a subscriber 1000 messages behind \(LogZeroMQ::zmq_hwm = 1000; LogZeroMQ::BLOCK waited LogZeroMQ::block_timeout = 1\.0 secs in vain: a longer block_timeout \(0 secs: no limit\) or a larger zmq_hwm\)$' zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: $PYTHON -c 'import re, sys; m = re.search(r"zmq_stall/Log::WRITER_ZEROMQ: published (\d+) of (\d+) records, dropped (\d+) \(0 with no subscriber, (\d+) with a slow subscriber, (\d+) unsent when the linger time ran out, (\d+) at shutdown, 0 lost with the connection, 0 unencodable, 0 on socket errors\)", open("zeek.err").read()); s, w, d, full, unsent, shutdown = map(int, m.groups()); sys.exit(0 if w == 10000 and s + d == w and d == full + unsent + shutdown and full > 0 else m.group(0))'

# The endpoint is tcp://127.0.0.1:$ZMQ_PORT (zmq-endpoint.zeek); Zeek binds it.
redef LogZeroMQ::bind = T;
redef LogZeroMQ::zmq_hwm = 1000;
redef LogZeroMQ::zmq_linger = 1000;
# BLOCK: a subscriber that keeps up loses nothing, even when it falls behind
# for a moment (with DROP it would lose what it was zmq_hwm behind for); one
# that stalls holds the writer back once, for block_timeout.
redef LogZeroMQ::overflow_policy = LogZeroMQ::BLOCK;
redef LogZeroMQ::block_timeout = 1sec;

# Zeek runs until the script calls terminate().
redef exit_only_after_terminate = T;

module ZmqStall;

export {
	redef enum Log::ID += {
		LOG,
		PROBE_LOG
	};

	type Info: record {
		n: count &log;
		s: string &log;
	};
}

redef LogZeroMQ::send_logs = {
	LOG,
	PROBE_LOG
};

global deadline: time;
global probes = 0;

event stop()
	{
	print fmt("terminate at %f", current_time());
	terminate();
	}

# 50 records of 2 KB every 10 ms, from record `from` on, 10000 in all: 20 MB,
# far more than the stalled subscriber's buffers and queue hold, at a pace
# (10 MB/s) the live (Python) subscriber keeps up with. Stops three seconds
# after the last (after a heartbeat or two has reported the drops).
event burst(from: count)
	{
	local s = string_fill(2000, "0123456789");
	local i = from;
	while ( i < from + 50 )
		{
		Log::write(LOG, Info($n=i, $s=s));
		++i;
		}

	if ( i < 10000 )
		schedule 10msec { burst(i) };
	else
		schedule 3sec { stop() };
	}

# Writes a probe every 100 ms (the first one makes a writer bind the
# endpoint) until both subscribers have received one; then the burst.
event probe()
	{
	local live = file_size("live/zmq_stall_probe.log") >= 0.0;
	local stalled = file_size("stalled.ready") >= 0.0;

	if ( live && stalled )
		{
		print fmt("subscribers ready after %d probes", probes);
		event burst(0);
		return;
		}

	if ( current_time() > deadline )
		{
		print fmt("FAIL: after %d probes: live ready %s, stalled ready %s", probes,
		    live, stalled);
		terminate();
		return;
		}

	++probes;
	Log::write(PROBE_LOG, Info($n=probes, $s="probe"));
	schedule 100msec { probe() };
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_stall"));
	Log::create_stream(PROBE_LOG, Log::Stream($columns=Info,
	    $path="zmq_stall_probe"));
	}

# After the ZeroMQ filters were added (priority -5).
event zeek_init() &priority=-10
	{
	deadline = current_time() + 60sec;
	event probe();
	}
