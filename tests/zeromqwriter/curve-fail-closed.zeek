# @TEST-REQUIRES: which zeek
# @TEST-DOC: CURVE fails closed: a secret key file readable by others gives one error per writer saying so, without the key; nothing is published, Zeek exits 0 and the disk logs are written.
#
# @TEST-EXEC: $PYTHON -c 'import zmq; p, s = zmq.curve_keypair(); open("sensor.key", "w").write(s.decode() + "\n"); open("secret.txt", "w").write(s.decode())' && chmod 644 sensor.key
# @TEST-EXEC: zeek -C -r $TRACES/get.trace %INPUT >zeek.out 2>zeek.err || { cat zeek.err >&2; false; }
# @TEST-EXEC: test -s conn.log
# @TEST-EXEC: cat zeek.err reporter.log >messages 2>/dev/null; grep -F 'conn/Log::WRITER_ZEROMQ' messages | grep -F 'readable by group or others' || { cat messages >&2; false; }
# @TEST-EXEC: ! grep -F -f secret.txt messages zeek.out *.log

@load NCSA/ZeroMQWriter

redef LogZeroMQ::endpoint = "tcp://127.0.0.1:9";
redef LogZeroMQ::curve_server_public_key =
    "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
redef LogZeroMQ::curve_secret_key_file = "sensor.key";
