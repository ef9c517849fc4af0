# @TEST-REQUIRES: which zeek
# @TEST-DOC: The ssl records published carry no subject/issuer fields, exactly like ssl.log: Zeek's SSL scripts exclude them from the default filter, and the ZeroMQ filter is a copy of it. All other logs match too.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: btest-bg-run sub $PYTHON $SCRIPTS/zmq-sub.py --bind tcp://127.0.0.1:${ZMQ_PORT%/tcp} --out ../received.jsonl --ready ../sub.ready --until-file ../zeek.done --deadline 110
# @TEST-EXEC: $SCRIPTS/wait-for-file sub.ready 30 sub
# @TEST-EXEC: zeek -C -r $TRACES/client-certificate.pcap $FILES/zmq-endpoint.zeek local || { touch zeek.done; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 90
# @TEST-EXEC: $PYTHON $SCRIPTS/compare-json-logs.py received.jsonl
# @TEST-EXEC: $PYTHON check-ssl.py

@TEST-START-FILE check-ssl.py
import json
import os
import sys


def fail(msg):
    # btest -d shows $TEST_DIAGNOSTICS (stderr is lost after btest-bg-wait).
    if os.environ.get("TEST_DIAGNOSTICS"):
        with open(os.environ["TEST_DIAGNOSTICS"], "a", encoding="utf-8") as f:
            f.write(msg + "\n")
    sys.exit(msg)


EXCLUDED = ("subject", "issuer", "client_subject", "client_issuer")

ssl = []
with open("received.jsonl", encoding="utf-8") as f:
    for line in f:
        frames = json.loads(line)["frames"]
        if frames[0] == "ssl":
            ssl.append(json.loads(frames[1]))

if not ssl:
    fail("no ssl record received")

for n, rec in enumerate(ssl, 1):
    leaked = [k for k in EXCLUDED if k in rec]
    if leaked:
        fail(f"ssl record {n} has excluded fields {leaked}: {rec}")

# Make sure the trace had certificate subjects that could have leaked.
with open("x509.log", encoding="utf-8") as f:
    subjects = [json.loads(line).get("certificate.subject") for line in f]
if not any(subjects):
    fail("x509.log has no certificate.subject: the trace does not test the exclusion")

print(f"{len(ssl)} ssl records, none with {', '.join(EXCLUDED)}")
@TEST-END-FILE
