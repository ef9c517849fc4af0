# @TEST-REQUIRES: which zeek && which rsyslogd && ls /usr/lib/*/rsyslog/imczmq.so
# @TEST-DOC: rsyslog as a real subscriber (Zeek with local.zeek) (imczmq, mmjsonparse, omfile; the configuration is Files/rsyslog-zeek.conf): with the plugin in the one-frame format (JSON_WITH_PATH), every record of every log of several traces arrives exactly once, one rsyslog message per record, in the file of its _path, byte-identical to Zeek's JSON log line with "_path" first; with rsyslog binding and Zeek connecting, and with Zeek binding (LogZeroMQ::bind) and rsyslog connecting. See Scripts/check-trace-rsyslog.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: mkdir connect && cd connect && for t in get.trace dns53.pcap ssh.trace; do $SCRIPTS/check-trace-rsyslog $TRACES/$t ${ZMQ_PORT%/tcp} connect local LogZeroMQ::overflow_policy=LogZeroMQ::BLOCK || echo $t >>../failed; done; test ! -e ../failed
# @TEST-EXEC: mkdir bind && cd bind && for t in get.trace dns53.pcap; do $SCRIPTS/check-trace-rsyslog $TRACES/$t ${ZMQ_PORT%/tcp} bind local LogZeroMQ::overflow_policy=LogZeroMQ::BLOCK || echo $t >>../failed; done; test ! -e ../failed
