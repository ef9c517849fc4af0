//! `zeek-zmq`: subscriber, replay and key tools for the ZeroMQ log writer's
//! `[path, json]` streams. The work is in the library's `cli` module.

fn main() -> std::process::ExitCode {
    zeek_zeromq_writer::cli::main()
}
