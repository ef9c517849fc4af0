# @TEST-REQUIRES: which zeek
# @TEST-DOC: Sensor identity: extension fields of Log::default_ext_func (here _system_name, prefix Log::default_ext_prefix) arrive in both message formats, first in each record, byte-identical to the disk logs (the default-zmq filter copies ext_func and ext_prefix from the stream's default filter).
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: ext=$PWD/ext.zeek && mkdir two && cd two && $SCRIPTS/check-trace $TRACES/get.trace ${ZMQ_PORT%/tcp} $ext
# @TEST-EXEC: ext=$PWD/ext.zeek && mkdir one && cd one && CHECK_COMPARE_ARGS=--json-with-path $SCRIPTS/check-trace $TRACES/get.trace ${ZMQ_PORT%/tcp} $ext LogZeroMQ::message_format=LogZeroMQ::JSON_WITH_PATH
# @TEST-EXEC: grep -q '\["conn", "{\\"_system_name\\":\\"sensor-7\\",\\"ts\\":' two/get/received.jsonl
# @TEST-EXEC: grep -q '{\\"_path\\":\\"conn\\",\\"_system_name\\":\\"sensor-7\\",\\"ts\\":' one/get/received.jsonl

# @TEST-START-FILE ext.zeek
type SensorExtension: record {
	system_name: string &log;
};

function sensor_extension(path: string): SensorExtension
	{
	return SensorExtension($system_name="sensor-7");
	}

redef Log::default_ext_func = sensor_extension;
redef Log::default_ext_prefix = "_";
# @TEST-END-FILE
