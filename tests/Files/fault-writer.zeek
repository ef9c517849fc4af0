# The Zeek side of the fault runs (Scripts/fault-run.py): writes
# Fault::records records to the log path "fault", Fault::batch of them every
# Fault::pace, publishing them (Files/zmq-endpoint.zeek) and writing them to
# fault.log. After the last one it creates the file "all-written", prints how
# many records Zeek's logging framework handed to the ZeroMQ writer (Zeek's
# own counter, zeek_log_writer_writes_total), and, unless Fault::sigterm is
# set (then it runs until a signal ends it), calls terminate().
#
# It prints "terminate at <time>" just before terminate() and "written
# <count>" when all are written; fault-run.py reads both from stdout.

@load base/frameworks/telemetry

redef exit_only_after_terminate = T;

module Fault;

export {
	redef enum Log::ID += { LOG };

	type Info: record {
		n: count &log;
		s: string &log;
	};

	## Records in all.
	const records = 5000 &redef;
	## Records per batch.
	const batch = 100 &redef;
	## Time between batches.
	const pace = 20msec &redef;
	## Bytes of padding per record.
	const padding = 2000 &redef;
	## Wait for a signal after the last record instead of calling terminate().
	const sigterm = F &redef;
}

redef LogZeroMQ::send_logs = {LOG};

# What Zeek's logging framework counted as handed to the ZeroMQ writer of
# the "fault" path: its zeek_log_writer_writes_total.
function zeromq_writes(): double
	{
	local metrics = Telemetry::collect_metrics("zeek", "log_writer_writes*");

	for ( i in metrics )
		{
		local m = metrics[i];
		local writer = "";
		local path = "";

		for ( j in m$label_names )
			{
			if ( m$label_names[j] == "writer" )
				writer = m$label_values[j];
			if ( m$label_names[j] == "path" )
				path = m$label_values[j];
			}

		if ( writer == "Log::WRITER_ZEROMQ" && path == "fault" )
			return m$value;
		}

	return -1.0;
	}

event all_written()
	{
	print fmt("written %.0f", zeromq_writes());
	close(open("all-written"));

	if ( sigterm )
		return;

	print fmt("terminate at %f", current_time());
	terminate();
	}

event write_batch(from: count)
	{
	local s = string_fill(padding, "0123456789");
	local i = from;

	while ( i < from + batch && i < records )
		{
		Log::write(LOG, Info($n=i, $s=s));
		++i;
		}

	if ( i < records )
		schedule pace { write_batch(i) };
	else
		event all_written();
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="fault"));
	}

# After the ZeroMQ filters were added (priority -5).
event zeek_init() &priority=-10
	{
	event write_batch(0);
	}
