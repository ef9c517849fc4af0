// The Zeek side of the writer: a WriterBackend that forwards every call to
// the Rust `ZeekWriter` (src/bridge.rs) and implements the `Host` callbacks
// Rust uses to report through Zeek. Hooks with nothing to do return true
// here, as Zeek's own None writer does.
//
// Checked against the headers of Zeek v7.0.x, v8.0.x and v8.2.x: the API
// used here is the same in all (see the notes in ZeroMQWriter.cc).
#pragma once

#include <memory>
#include <vector>

#include <zeek/logging/WriterBackend.h>
#include <zeek/threading/SerialTypes.h>

#include "shim/host.h"
#include "zeek-zeromq-writer/src/bridge.rs.h"

namespace zeek::telemetry {
class Counter; // zeek/telemetry/Counter.h, included by the .cc only
} // namespace zeek::telemetry

namespace zeromq_writer {

class ZeroMQ : public zeek::logging::WriterBackend, public Host {
public:
    // Main thread: reads the LogZeroMQ:: script options, creates the Rust
    // writer and this path's telemetry counters.
    explicit ZeroMQ(zeek::logging::WriterFrontend* frontend);
    ~ZeroMQ() override = default;

    // The factory registered with zeek::logging::Component (see Plugin.cc).
    static zeek::logging::WriterBackend* Instantiate(zeek::logging::WriterFrontend* frontend);

    // Host: called by Rust on the writer thread.
    void error(rust::Str msg) const override;
    void warning(rust::Str msg) const override;
    void info(rust::Str msg) const override;

protected:
    // WriterBackend: all run on the writer thread.
    bool DoInit(const WriterInfo& winfo, int num_fields, const zeek::threading::Field* const* fields) override;
    bool DoWrite(int num_fields, const zeek::threading::Field* const* fields, zeek::threading::Value** vals) override;
    // Every record is handed to ZeroMQ as it comes: no buffer to set or flush.
    bool DoSetBuf(bool enabled) override { return true; }
    bool DoFlush(double network_time) override { return true; }
    bool DoRotate(const char* rotated_path, double open, double close, bool terminating) override;
    bool DoFinish(double network_time) override;
    bool DoHeartbeat(double network_time, double current_time) override;

    // MsgThread: run on Zeek's main thread. They raise the Rust writer's
    // stop signal (an atomic the writer thread polls while it waits for a
    // subscriber), then do what MsgThread does.
    void OnSignalStop() override;
    void OnKill() override;

private:
    // Appends the slots of a set's or vector's elements to slots_ (and of
    // theirs, pre-order).
    void AppendElements(const zeek::threading::Value::set_t& elems);

    // Writer thread: adds what Rust counted since the last call to the
    // telemetry counters.
    void UpdateCounters();

    rust::Box<ZeekWriter> writer_;
    // The writer's stop signal (initialized after writer_, from it); only
    // the main thread touches this box, the writer thread its own handle.
    rust::Box<StopSignal> stop_;
    // zeek_zeromq_writer_records_total{path, result="sent"|"dropped"} and
    // zeek_zeromq_writer_bytes_total{path}; null without a telemetry manager.
    std::shared_ptr<zeek::telemetry::Counter> sent_, dropped_, bytes_;
    // One record's values; cleared and refilled by every DoWrite, so its
    // capacity is reused.
    std::vector<Slot> slots_;
};

} // namespace zeromq_writer
