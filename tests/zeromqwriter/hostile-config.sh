# @TEST-REQUIRES: which zeek
# @TEST-DOC: Hostile configuration is refused, never obeyed: a secret key file that is a FIFO or a character device (mode 600), an endpoint with a NUL byte, heartbeat_timeout = 1e-9 sec. Each gives one clear message per writer (the script-level option's warning once in all, with five writers), Zeek exits 0 within 10 s, and the disk logs are written; a writer that never started still prints its totals.
# @TEST-PORT: NOBODY_PORT
#
# A FIFO (nobody writes to it: opening it blocking would hang the writer).
# @TEST-EXEC: mkfifo key.fifo && chmod 600 key.fifo
# @TEST-EXEC: bash run.sh fifo curve-key.zeek LogZeroMQ::curve_secret_key_file=../key.fifo
# @TEST-EXEC: bash check.sh fifo error 'cannot read secret key file ../key.fifo: it is a FIFO, not a regular file; not publishing this log'
#
# A character device of endless zeros (reading it would grow Zeek until it
# is killed): /dev/zero itself, mode 600, where mknod is allowed (root).
# @TEST-EXEC: { mknod zero c 1 5 2>/dev/null && chmod 600 zero && dev=../zero; } || dev=/dev/zero; bash run.sh device curve-key.zeek LogZeroMQ::curve_secret_key_file=$dev && echo "$dev" >device/dev
# @TEST-EXEC: bash check.sh device error "cannot read secret key file $(cat device/dev): it is a character device, not a regular file; not publishing this log"
#
# A NUL byte in the endpoint: shown escaped, with where it is.
# @TEST-EXEC: bash run.sh nul nul-endpoint.zeek
# @TEST-EXEC: bash check.sh nul error 'bad endpoint "tcp://127.0.0.1:30020\0junk": it contains a NUL byte at offset 21; not publishing this log'
#
# An interval below a millisecond: refused, once for all five writers (the
# writers publish, to nobody).
# @TEST-EXEC: bash run.sh tiny tiny-heartbeat.zeek
# @TEST-EXEC: bash check.sh tiny once 'LogZeroMQ::heartbeat_timeout = "1e-09" is not 0 (never) or an interval from 1 msec to 6553 secs (e.g. "30 secs"); using the default (said once for all writers)'

# @TEST-START-FILE run.sh
# run.sh DIR SCRIPT [ARGS...]: Zeek over get.trace in DIR, with five
# ZeroMQ writers (five-writers.zeek), SCRIPT and ARGS; it must exit 0 within
# 10 s (killed after 60) and write its disk logs.
set -u
dir=$1 script=$2
shift 2
mkdir "$dir" && cd "$dir" || exit 1
start=$(date +%s%N)
timeout -s KILL 60 zeek -C -r "$TRACES/get.trace" ../five-writers.zeek "../$script" "$@" >zeek.out 2>zeek.err
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
cat zeek.err reporter.log >messages 2>/dev/null
if [ "$rc" != 0 ] || [ "$ms" -ge 10000 ]; then
	echo "$dir: zeek exited with status $rc after $ms ms (expected 0 within 10000 ms)" >&2
	cat zeek.err >&2
	exit 1
fi
for log in conn http files; do
	test -s "$log.log" || { echo "$dir: no $log.log" >&2; exit 1; }
done
# @TEST-END-FILE

# @TEST-START-FILE check.sh
# check.sh DIR error MESSAGE: each of the five writers reports MESSAGE once,
# as an error, and nothing else says it; it never started, and its totals
# say so at the end.
# check.sh DIR once MESSAGE: one writer warns MESSAGE, once in all.
set -u
dir=$1 kind=$2 msg=$3
fail() {
	echo "$dir: $*" >&2
	cat "$dir/messages" >&2
	exit 1
}
total=$(grep -cF -- "$msg" "$dir/zeek.err")
case $kind in
error)
	for path in conn http files packet_filter conn-copy; do
		n=$(grep -F -- " $path/Log::WRITER_ZEROMQ: $msg" "$dir/zeek.err" | grep -c ' error[ :]')
		test "$n" = 1 || fail "$path: $n errors \"$msg\" (expected 1)"
		# Its totals, as every writer's: it dropped the trace's one record.
		n=$(grep -cF -- " $path/Log::WRITER_ZEROMQ: published 0 of 1 record, dropped 1 (the writer never started: see the error at its start)" "$dir/zeek.err")
		test "$n" = 1 || fail "$path: $n totals lines (expected 1)"
	done
	test "$total" = 5 || fail "\"$msg\" said $total times (expected 5)"
	;;
once)
	n=$(grep -cF -- "warning: " "$dir/zeek.err")
	test "$total" = 1 || fail "\"$msg\" said $total times (expected 1)"
	test "$n" = 1 || fail "$n warnings (expected 1)"
	;;
esac
# @TEST-END-FILE

# @TEST-START-FILE five-writers.zeek
# The trace's conn, http, files and packet_filter logs, and a copy of conn:
# five ZeroMQ writers.
@load NCSA/ZeroMQWriter

event zeek_init() &priority=-10
	{
	Log::add_filter(Conn::LOG, Log::Filter($name="zmq-copy", $path="conn-copy",
	    $writer=Log::WRITER_ZEROMQ));
	}
# @TEST-END-FILE

# @TEST-START-FILE curve-key.zeek
redef LogZeroMQ::endpoint = fmt("tcp://127.0.0.1:%d", port_to_count(to_port(
    getenv("NOBODY_PORT"))));
redef LogZeroMQ::curve_server_public_key =
    "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
# @TEST-END-FILE

# @TEST-START-FILE nul-endpoint.zeek
redef LogZeroMQ::endpoint = "tcp://127.0.0.1:30020\x00junk";
# @TEST-END-FILE

# @TEST-START-FILE tiny-heartbeat.zeek
redef LogZeroMQ::endpoint = fmt("tcp://127.0.0.1:%d", port_to_count(to_port(
    getenv("NOBODY_PORT"))));
redef LogZeroMQ::wait_for_subscribers = 0sec;
redef LogZeroMQ::heartbeat_timeout = 1e-9 sec;
# @TEST-END-FILE
