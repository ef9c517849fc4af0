# @TEST-REQUIRES: which zeek
# @TEST-DOC: A malformed endpoint is reported as an error naming the writer's path and the endpoint; Zeek still exits 0 and writes its disk logs.
#
# @TEST-EXEC: zeek -C -r $TRACES/get.trace %INPUT >zeek.out 2>zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: test -s conn.log && test -s http.log
# @TEST-EXEC: cat zeek.err reporter.log >messages 2>/dev/null; grep -F 'conn/Log::WRITER_ZEROMQ' messages | grep -F 'localhost:12345' | grep -qi error || { cat messages >&2; false; }

@load NCSA/ZeroMQWriter

redef LogZeroMQ::endpoint = "localhost:12345";
