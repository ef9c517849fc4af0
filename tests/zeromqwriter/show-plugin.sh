# @TEST-REQUIRES: which zeek
# @TEST-DOC: zeek -NN lists the plugin, its version and the writer component.
#
# @TEST-EXEC: zeek -NN NCSA::ZeroMQWriter >output 2>&1 || { cat output >&2; false; }
# @TEST-EXEC: grep -E '^NCSA::ZeroMQWriter - .+ \(dynamic, version [0-9]+\.[0-9]+\.[0-9]+\)$' output || { cat output >&2; false; }
# @TEST-EXEC: grep -F '    [Writer] ZeroMQ (Log::WRITER_ZEROMQ)' output || { cat output >&2; false; }
