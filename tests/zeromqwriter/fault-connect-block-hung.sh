# @TEST-REQUIRES: which zeek
# @TEST-DOC: Fault suite, connect mode, BLOCK, a subscriber that stops reading after 500 records, its connection open: Zeek exits 0 within zmq_linger (1 s) + 2 s of terminate(); the writer's totals count every record Zeek handed to it (its zeek_log_writer_writes_total, fault.log's lines) as sent or dropped; sent minus received within the bound of Scripts/fault-run.py.
# @TEST-PORT: ZMQ_PORT
# @TEST-EXEC: $PYTHON $SCRIPTS/fault-run.py --mode connect --policy block --situation hung --port $ZMQ_PORT
