# Common setup of the tests that receive records: publish log streams to the
# test's subscriber on 127.0.0.1, port $ZMQ_PORT (from @TEST-PORT), and write
# the disk logs as JSON, so that both can be compared.

@load NCSA/ZeroMQWriter

redef LogAscii::use_json = T;
redef LogZeroMQ::endpoint = fmt("tcp://127.0.0.1:%d", port_to_count(to_port(
    getenv("ZMQ_PORT"))));
# The subscriber is bound before Zeek starts, and with the default options
# (wait_for_subscribers) every record reaches it unless a path's burst
# outruns it by zmq_hwm records (then counted and reported as dropped).
