//! `zeek-zmq`: subscriber, replay and key tools for the ZeroMQ log writer's
//! `[path, json]` streams. The work is in this crate's library.

fn main() -> std::process::ExitCode {
    zeek_zmq::main()
}
