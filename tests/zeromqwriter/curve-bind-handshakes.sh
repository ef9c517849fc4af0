# @TEST-REQUIRES: which zeek
# @TEST-DOC: Bind mode with CURVE and an allow list: a subscriber whose key is not allowed is reported with its key and address (the ZAP handler), one with another server key than Zeek's as a failed CURVE handshake on the bound endpoint (the socket monitor); each once, as warnings at heartbeats; neither receives anything.
# @TEST-PORT: ZMQ_PORT
#
# @TEST-EXEC: $PYTHON keys.py
# @TEST-EXEC: btest-bg-run stranger $PYTHON $SCRIPTS/zmq-sub.py --connect tcp://127.0.0.1:${ZMQ_PORT%/tcp} --curve-server-public ../zeek.pub --curve-key ../stranger --out ../stranger.jsonl --until-file ../zeek.done --grace 0 --deadline 90
# @TEST-EXEC: btest-bg-run wrong $PYTHON $SCRIPTS/zmq-sub.py --connect tcp://127.0.0.1:${ZMQ_PORT%/tcp} --curve-server-public ../other.pub --curve-key ../allowed --out ../wrong.jsonl --until-file ../zeek.done --grace 0 --deadline 90
# @TEST-EXEC: ZMQ_PORT=${ZMQ_PORT%/tcp} zeek -b NCSA::ZeroMQWriter curve-bind-handshakes.zeek >zeek.out 2>zeek.err || { touch zeek.done; cat zeek.err >&2; false; }
# @TEST-EXEC: touch zeek.done && btest-bg-wait 60
# @TEST-EXEC: grep -q 'both seen' zeek.out || { cat zeek.err >&2; false; }
# (libzmq names IPv4 addresses of an IPv6 socket ::ffff:127.0.0.1.)
# @TEST-EXEC: test $(grep -F "warning: zmq_bind_keys/Log::WRITER_ZEROMQ: rejected a subscriber with CURVE public key $(cat stranger.pub) from " zeek.err | grep -cE ' (::ffff:)?127\.0\.0\.1: not an allowed client \(') = 1 || { cat zeek.err >&2; false; }
# @TEST-EXEC: test $(grep -cE "warning: zmq_bind_keys/Log::WRITER_ZEROMQ: CURVE handshake failed: cannot talk to a subscriber connecting to tcp://(\[::ffff:127\.0\.0\.1\]|127\.0\.0\.1):${ZMQ_PORT%/tcp}: the CURVE keys do not match: the subscriber was given another server key than this end's public key( \([0-9]+ times\))?$" zeek.err) = 1 || { cat zeek.err >&2; false; }
# @TEST-EXEC: test $(grep -cE "^warning: zmq_bind_keys/Log::WRITER_ZEROMQ: (rejected|CURVE handshake failed)" zeek.err) = 2 || { cat zeek.err >&2; false; }
# @TEST-EXEC: test ! -s stranger.jsonl && test ! -s wrong.jsonl

# @TEST-START-FILE curve-bind-handshakes.zeek
# Zeek runs until both warnings arrived, then a few heartbeats more (to see
# that each is said once), or 30 s passed.
@load NCSA/ZeroMQWriter

redef exit_only_after_terminate = T;
redef LogZeroMQ::endpoint = fmt("tcp://127.0.0.1:%s", getenv("ZMQ_PORT"));
redef LogZeroMQ::bind = T;
redef LogZeroMQ::curve_secret_key_file = "zeek.key";
redef LogZeroMQ::curve_allowed_clients_file = "allowed-clients";
redef LogZeroMQ::wait_for_subscribers = 0sec;
redef LogZeroMQ::zmq_linger = 0;

module ZmqBindKeys;

export {
	redef enum Log::ID += { LOG };

	type Info: record {
		n: count &log;
	};
}

redef LogZeroMQ::send_logs = {LOG};

global deadline: time;
global rejected = F;
global mismatched = F;

event reporter_warning(t: time, msg: string, location: string)
	{
	if ( /not an allowed client/ in msg )
		rejected = T;
	if ( /the CURVE keys do not match/ in msg )
		mismatched = T;
	}

event check()
	{
	if ( rejected && mismatched )
		{
		print "both seen";
		rejected = F;
		deadline = current_time() + 3sec;
		}

	if ( current_time() > deadline )
		{
		terminate();
		return;
		}

	Log::write(LOG, Info($n=1));
	schedule 250msec { check() };
	}

event zeek_init()
	{
	Log::create_stream(LOG, Log::Stream($columns=Info, $path="zmq_bind_keys"));
	}

# After the ZeroMQ filter was added (priority -5).
event zeek_init() &priority=-10
	{
	Log::remove_filter(LOG, "default");
	deadline = current_time() + 30sec;
	event check();
	}
# @TEST-END-FILE

# @TEST-START-FILE keys.py
import os
import zmq

def pair(name):
    public, secret = zmq.curve_keypair()
    open(name + ".pub", "w").write(public.decode() + "\n")
    open(name + ".key", "w").write(secret.decode() + "\n")
    os.chmod(name + ".key", 0o600)
    return public.decode()

pair("zeek")
pair("other")
pair("stranger")
open("allowed-clients", "w").write(pair("allowed") + "\n")
# @TEST-END-FILE
