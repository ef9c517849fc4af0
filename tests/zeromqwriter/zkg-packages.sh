# @TEST-REQUIRES: which zeek
# @TEST-DOC: As zkg installs the package (its script_dir, from zkg.meta, copied to site/packages/<name>, loaded by "@load packages"): "@load packages" alone publishes every log, as the original plugin's package did (its README told zkg users to omit "@load NCSA/ZeroMQWriter"); with both loads, every record is still published once and Zeek says nothing.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: bash %INPUT
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py --logdir packages-only packages-only/received.jsonl
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py --logdir both-loads both-loads/received.jsonl
# @TEST-EXEC: test ! -s packages-only/zeek.err && test ! -s both-loads/zeek.err

set -e
repo=$TEST_BASE/..
# What zkg copies: the script_dir zkg.meta names (relative to the package).
script_dir=$(sed -n 's/^script_dir *= *//p' "$repo/zkg.meta")
mkdir -p site/packages/zeek-zeromq-writer
cp -R "$repo/$script_dir"/. site/packages/zeek-zeromq-writer/
echo "@load ./zeek-zeromq-writer" >site/packages/__load__.zeek
export ZEEKPATH=$ZEEKPATH:$PWD/site

# One run in directory $1 with the @load lines in $2.
run() {
    mkdir "$1"
    (
        cd "$1"
        printf '%s\nredef LogZeroMQ::endpoint = "tcp://127.0.0.1:%s";\nredef LogAscii::use_json = T;\n' \
            "$2" "${ZMQ_PORT%/tcp}" >local.zeek
        btest-bg-run sub "$PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 60"
        $SCRIPTS/wait-for-file sub.ready 30 sub
        zeek -C -r "$TRACES/get.trace" ./local.zeek >zeek.out 2>zeek.err || { touch zeek.done; cat zeek.err >&2; exit 1; }
        touch zeek.done
        btest-bg-wait 30
    )
}

run packages-only "@load packages"
run both-loads "$(printf '@load packages\n@load NCSA/ZeroMQWriter')"
