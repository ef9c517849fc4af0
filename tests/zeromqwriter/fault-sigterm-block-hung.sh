# @TEST-REQUIRES: which zeek
# @TEST-DOC: Fault suite: SIGTERM to a Zeek whose BLOCK writer is blocked (connect mode, a subscriber that stopped reading after 500 records, block_timeout 10 s): Zeek exits 0 within zmq_linger (1 s) + 2 s of the signal, with the writer's totals counting every record Zeek handed to it as sent or dropped.
# @TEST-PORT: ZMQ_PORT
# @TEST-EXEC: $PYTHON $SCRIPTS/fault-run.py --mode connect --policy block --situation hung --sigterm --port $ZMQ_PORT
