# @TEST-REQUIRES: which zeek
# @TEST-DOC: With sequence_numbers, a subscriber (zeek-zmq sub) that received the first records, stalls (SIGSTOP) while 5000 records of 10 KB are written and then resumes counts, by the sequence numbers it received, exactly the records the writer dropped: the gaps in its summary equal the dropped count of the writer's totals line and of its telemetry counter, and the totals name the numbers and the writer id.
# @TEST-PORT: ZMQ_PORT
#
# The subscriber is zeek-zmq sub, writing the records to sub/.stdout. Zeek
# stops it (SIGSTOP) and resumes it (SIGCONT) itself, in the background
# through system() (see below); the child of btest-bg-run's shell is it.
# @TEST-EXEC: btest-bg-run sub $ZEEK_ZMQ sub -e tcp://127.0.0.1:${ZMQ_PORT%/tcp}
# @TEST-EXEC: $SCRIPTS/wait-for-lines sub/.stderr 'bound to' 1 30
# @TEST-EXEC: SUB_PID=$(pgrep -x -P $(cat sub/.pid) zeek-zmq) zeek -b NCSA::ZeroMQWriter $FILES/zmq-endpoint.zeek $FILES/zmq-telemetry.zeek %INPUT >zeek.out 2>zeek.err || { pkill -CONT -x -P $(cat sub/.pid) zeek-zmq; pkill -TERM -x -P $(cat sub/.pid) zeek-zmq; cat zeek.err >&2; false; }
#
# Every record counted as sent arrived; then the subscriber exits, with its
# summary (also if they did not: a subscriber left running would hold its
# port).
# @TEST-EXEC: $SCRIPTS/wait-for-lines sub/.stdout '^\{' $(sed -n 's/^end sent=\([0-9]*\) .*/\1/p' zeek.out) 30; rc=$?; pkill -CONT -x -P $(cat sub/.pid) zeek-zmq; pkill -TERM -x -P $(cat sub/.pid) zeek-zmq; btest-bg-wait 30 && test $rc = 0
# @TEST-EXEC: $PYTHON $SCRIPTS/check-sequence-gaps.py zeek.out zeek.err sub/.stderr

redef exit_only_after_terminate = T;

redef LogZeroMQ::sequence_numbers = T;
redef LogZeroMQ::zmq_hwm = 10;

module ZmqSeq;

export {
	redef enum Log::ID += { LOG };

	type Info: record {
		n: count &log;
		s: string &log;
	};
}

redef LogZeroMQ::send_logs = {LOG};

# A few records the subscriber receives before it is stopped; 50 MB of JSON
# while it is stopped: far more than the kernel's socket buffers and the
# high-water mark hold. Then a few records once it caught up (fewer than
# zmq_hwm), the last of which ends the last gap.
const n_before = 10;
const n_stalled = 5000;
const n_after = 5;

global deadline: time;
global sub_pid = getenv("SUB_PID");

function file_exists(f: string): bool
	{
	return file_size(f) >= 0.0;
	}

function write_records(n: count, size: count)
	{
	local s = string_fill(size, "0123456789");
	local i = 0;
	while ( i < n )
		{
		Log::write(LOG, Info($n=i, $s=s));
		++i;
		}
	}

function handled(): ZmqTelemetry::Counts
	{
	return ZmqTelemetry::counts("zmq_seq");
	}

# Once every record is counted: the totals at exit.
event wait_done()
	{
	local c = handled();

	if ( c$sent + c$dropped < n_before + n_stalled + n_after
	    && current_time() < deadline )
		{
		schedule 250msec { wait_done() };
		return;
		}

	print fmt("end %s", ZmqTelemetry::describe(c));
	terminate();
	}

# Once the subscriber read again and every record so far is counted (the
# ones it held unacknowledged are counted as sent once its kernel
# acknowledged them): a few more records.
event wait_caught_up()
	{
	local c = handled();

	if ( c$sent + c$dropped < n_before + n_stalled && current_time() < deadline )
		{
		schedule 250msec { wait_caught_up() };
		return;
		}

	write_records(n_after, 10);
	event wait_done();
	}

# Once records were dropped (the buffers are full): resume the subscriber.
# (While it is stopped, what the kernel holds for it is neither sent nor
# dropped, so the counters do not add up.)
event wait_dropping()
	{
	local c = handled();

	if ( c$dropped < 1000.0 && current_time() < deadline )
		{
		schedule 250msec { wait_dropping() };
		return;
		}

	print fmt("stalled %s", ZmqTelemetry::describe(c));
	system(fmt("kill -CONT %s", sub_pid));
	event wait_caught_up();
	}

event wait_stopped()
	{
	if ( ! file_exists("stopped") && current_time() < deadline )
		{
		schedule 50msec { wait_stopped() };
		return;
		}

	write_records(n_stalled, 10000);
	event wait_dropping();
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_seq"));
	}

# After the ZeroMQ filter was added (priority -5).
event zeek_init() &priority=-10
	{
	# Only the ZeroMQ filter: no 50 MB log on disk.
	Log::remove_filter(LOG, "default");

	deadline = current_time() + 90sec;
	write_records(n_before, 10);
	# Stopped once it has a record: the writer has its subscription.
	system(fmt("%s/wait-for-lines sub/.stdout '^[{]' 1 30 && kill -STOP %s && touch stopped",
	    getenv("SCRIPTS"), sub_pid));
	event wait_stopped();
	}
