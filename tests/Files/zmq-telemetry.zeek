# Reads the ZeroMQ writer's telemetry counters from a script, the way Zeek's
# Prometheus endpoint would show them:
#   zeek_zeromq_writer_records_total{path="conn",result="sent"|"dropped"}
#   zeek_zeromq_writer_bytes_total{path="conn"}
# The writer adds to them on its heartbeat (about once a second of network
# time) and after DoFinish, so a test polls (see ZmqTelemetry::counts).

@load base/frameworks/telemetry

module ZmqTelemetry;

export {
	## One path's counters; -1 for a counter that does not exist.
	type Counts: record {
		sent: double &default=-1.0;
		dropped: double &default=-1.0;
		bytes: double &default=-1.0;
	};

	## The counters of log path `path`.
	global counts: function(path: string): Counts;

	## Renders `c` as "sent=S dropped=D bytes=B".
	global describe: function(c: Counts): string;
}

function label_of(m: Telemetry::Metric, name: string): string
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

function counts(path: string): Counts
	{
	local c = Counts();
	local metrics = Telemetry::collect_metrics("zeek", "zeromq_writer_*");

	for ( i in metrics )
		{
		local m = metrics[i];
		if ( ! m?$value || label_of(m, "path") != path )
			next;

		local result = label_of(m, "result");
		if ( m$opts$name == "zeek_zeromq_writer_records_total" && result == "sent" )
			c$sent = m$value;
		else if ( m$opts$name == "zeek_zeromq_writer_records_total"
		    && result == "dropped" )
			c$dropped = m$value;
		else if ( m$opts$name == "zeek_zeromq_writer_bytes_total" )
			c$bytes = m$value;
		}

	return c;
	}

function describe(c: Counts): string
	{
	return fmt("sent=%.0f dropped=%.0f bytes=%.0f", c$sent, c$dropped, c$bytes);
	}
