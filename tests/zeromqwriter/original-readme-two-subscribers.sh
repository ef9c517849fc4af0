# @TEST-REQUIRES: which zeek
# @TEST-DOC: The original plugin's README example "Logging to Multiple Subscribers", verbatim in a file named local.bro (only the two endpoints filled in): its "event bro_init() &priority=-10" runs, so the first subscriber gets http, files and dns, the second dns-2 and http-2 (the records of dns.log and http.log), all byte-identical; Zeek prints one deprecation warning for bro_init, naming local.bro, besides its own notes on the renamed paths. Two runs: get.trace has the HTTP, dns53.pcap the DNS.
# @TEST-PORT: SUB1_PORT
# @TEST-PORT: SUB2_PORT
#
# @TEST-EXEC: sed "s|tcp://localhost:12345|tcp://127.0.0.1:${SUB1_PORT%/tcp}|; s|tcp://10.1.2.3:44000|tcp://127.0.0.1:${SUB2_PORT%/tcp}|" $FILES/original-readme/two-subscribers.bro >local.bro
# @TEST-EXEC: bash %INPUT http $TRACES/get.trace
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py --logdir http http/sub1.jsonl --paths http,files
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py --logdir http http/sub2.jsonl --paths http-2 --map http-2=http
# @TEST-EXEC: bash %INPUT dns $TRACES/dns53.pcap
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py --logdir dns dns/sub1.jsonl --paths dns
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py --logdir dns dns/sub2.jsonl --paths dns-2 --map dns-2=dns
#
# Each run's stderr: the deprecation warning once, and Zeek's warning that the
# second filter's path was renamed (as the original README says it would be).
# @TEST-EXEC: grep -c 'warning in ../local.bro, line 5: deprecated (bro_init): .*rename the handler to zeek_init' http/zeek.err dns/zeek.err >warnings
# @TEST-EXEC: test "$(cat warnings)" = "$(printf 'http/zeek.err:1\ndns/zeek.err:1')" || { cat http/zeek.err dns/zeek.err >&2; false; }
# @TEST-EXEC: grep -hv -e 'deprecated (bro_init)' -e "Write using filter 'remote-zmq' on path '\(http\|dns\)' changed to use new path '\(http\|dns\)-2' to avoid conflict with filter 'default-zmq'" http/zeek.err dns/zeek.err >other-stderr || true
# @TEST-EXEC: test ! -s other-stderr || { cat other-stderr >&2; false; }

# One run in directory $1 over trace $2: both subscribers bound first, then
# Zeek with ../local.bro; waits until both subscribers are done.
set -e
dir=$1
trace=$2
mkdir "$dir"
cd "$dir"
btest-bg-run sub1 "$PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${SUB1_PORT%/tcp} --out ../sub1.jsonl --ready ../sub1.ready --until-file ../zeek.done --deadline 60"
btest-bg-run sub2 "$PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${SUB2_PORT%/tcp} --out ../sub2.jsonl --ready ../sub2.ready --until-file ../zeek.done --deadline 60"
$SCRIPTS/wait-for-file sub1.ready 30 sub1
$SCRIPTS/wait-for-file sub2.ready 30 sub2
zeek -C -r "$trace" ../local.bro LogAscii::use_json=T >zeek.out 2>zeek.err || { touch zeek.done; exit 1; }
touch zeek.done
btest-bg-wait 30
