// See ZeroMQWriter.h. This file only moves data between Zeek's types and the
// bridge types; every decision (options, JSON, sockets) is made in Rust.
//
// Zeek API notes (identical in v7.0.x, v8.0.x and v8.2.x unless stated; 8.2.2's
// WriterBackend.h is byte for byte 8.0.10's):
// - WriterBackend(WriterFrontend*): 8.0.2+ adds a defaulted second
//   parameter `send_heartbeats = true`, so the one-argument call fits all.
// - DoHeartbeat is pure virtual up to 8.0.1 and defaulted later; we
//   override it everywhere.
// - threading::Value / Field member names are the same in 7.0, 8.0 and 8.2
//   (members moved, and 8.1 added Value::truncated, which no writer reads:
//   Zeek sets it when a value was shortened to Log::default_max_* before it
//   reaches DoWrite, and its JSON does not show it), so no version #if is
//   needed.
// - ODesc::Size() is new in 8.0, where Len() is deprecated (8.1 removed
//   it): the one #if.
// - MsgThread::Error/Warning/Info(const char*) are public and non-const.
// - MsgThread::OnSignalStop() and OnKill() are protected virtuals (of
//   BasicThread), run on the main thread: OnSignalStop from SignalStop
//   (WriterFrontend::Stop, threading::Manager::Terminate) before it queues
//   the FinishMessage, OnKill from Kill. Overriders must call MsgThread's.
// - TransportProto and IPFamily live in the global namespace.
// - Telemetry: telemetry_mgr->CounterFamily(prefix, name, {label names},
//   help, unit) and CounterFamily::GetOrAdd({{name, value}, ...}) have the
//   same signatures (7.0 spells the span overloads zeek::Span, 8.0
//   std::span; we use the initializer_list ones). The Prometheus name is
//   "<prefix>_<name>[_<unit>]_total" in both. Neither the manager nor a
//   family is thread-safe: create counters on the main thread. Counter::Inc
//   is prometheus::Counter::Increment, an atomic add (prometheus-cpp at the
//   commits 7.0.x and 8.0.x pin), so the writer thread may call it.
//   Threads are joined (DoFinish included) before the manager is deleted.

#include "shim/ZeroMQWriter.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <zeek/Desc.h>
#include <zeek/ID.h>
#include <zeek/Type.h>
#include <zeek/Val.h>
#include <zeek/ZeekString.h>
#include <zeek/telemetry/Manager.h>
#include <zeek/zeek-version.h> // ZEEK_VERSION_NUMBER: major * 10000 + minor * 100 + patch

namespace zeromq_writer {

namespace {

// Shortest "%.Ng" that reads back as the same double (seconds).
std::string FormatSeconds(double d) {
    char buf[64];
    for ( int prec = 15; prec <= 17; ++prec ) {
        std::snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if ( std::strtod(buf, nullptr) == d )
            break;
    }
    return buf;
}

// Renders a script value the way it would appear as a `$config` value:
// strings raw, bools T/F, numbers in decimal, enums by full name (e.g.
// JSON::TS_EPOCH), intervals/doubles/times as plain seconds.
std::string RenderOption(const zeek::Val& v) {
    switch ( v.GetType()->Tag() ) {
        case zeek::TYPE_BOOL: return v.AsBool() ? "T" : "F";
        case zeek::TYPE_INT: return std::to_string(v.AsInt());
        case zeek::TYPE_COUNT: return std::to_string(v.AsCount());
        case zeek::TYPE_DOUBLE:
        case zeek::TYPE_TIME:
        case zeek::TYPE_INTERVAL: return FormatSeconds(v.AsDouble());
        case zeek::TYPE_STRING: {
            const zeek::String* s = v.AsString();
            return std::string(reinterpret_cast<const char*>(s->Bytes()), s->Len());
        }
        case zeek::TYPE_ENUM: {
            const char* name = v.GetType()->AsEnumType()->Lookup(v.AsEnum());
            return name ? name : "";
        }
        case zeek::TYPE_TABLE: {
            // A set (e.g. of key strings): its elements, one per line.
            std::string out;
            const auto elems = v.AsTableVal()->ToPureListVal();
            for ( int i = 0; elems && i < elems->Length(); ++i ) {
                if ( i > 0 )
                    out += '\n';
                out += RenderOption(*elems->Idx(i));
            }
            return out;
        }
        default: {
            // Anything else: Zeek's own readable rendering.
            zeek::ODesc d;
            v.Describe(&d);
#if ZEEK_VERSION_NUMBER >= 80000
            return std::string(d.Description(), d.Size()); // Len() is deprecated in 8.0
#else
            return std::string(d.Description(), d.Len()); // Size() is new in 8.0
#endif
        }
    }
}

// Reads each LogZeroMQ::<name> global Rust asks for; absent ones are skipped
// (zeek::id::find returns null, unlike find_val, which aborts).
rust::Vec<KeyValue> ReadScriptOptions() {
    rust::Vec<KeyValue> kvs;
    for ( const rust::String& name : script_option_names() ) {
        std::string full = "LogZeroMQ::" + std::string(name);
        const auto& id = zeek::id::find(full);
        if ( ! id || ! id->HasVal() )
            continue;
        std::string value = RenderOption(*id->GetVal());
        kvs.push_back(KeyValue{name, rust::String::lossy(value.data(), value.size())});
    }
    return kvs;
}

Kind ToKind(zeek::TypeTag t) {
    switch ( t ) {
        case zeek::TYPE_BOOL: return Kind::Bool;
        case zeek::TYPE_INT: return Kind::Int;
        case zeek::TYPE_COUNT: return Kind::Count;
        case zeek::TYPE_DOUBLE: return Kind::Double;
        case zeek::TYPE_TIME: return Kind::Time;
        case zeek::TYPE_INTERVAL: return Kind::Interval;
        case zeek::TYPE_PORT: return Kind::Port;
        case zeek::TYPE_ADDR: return Kind::Addr;
        case zeek::TYPE_SUBNET: return Kind::Subnet;
        case zeek::TYPE_STRING: return Kind::String;
        case zeek::TYPE_ENUM: return Kind::Enum;
        case zeek::TYPE_FILE: return Kind::File;
        case zeek::TYPE_FUNC: return Kind::Func;
        case zeek::TYPE_TABLE: return Kind::Set;
        case zeek::TYPE_VECTOR: return Kind::Vector;
        default: return Kind::Other;
    }
}

// Copies an address (network byte order) into a/b: IPv4 is the 4 bytes of
// in4 followed by zeros, IPv6 the 16 bytes of in6.
void SetAddr(Slot& s, const zeek::threading::Value::addr_t& addr) {
    uint8_t bytes[16] = {0};
    if ( addr.family == IPv4 ) {
        s.aux = 4;
        std::memcpy(bytes, &addr.in.in4, 4);
    }
    else {
        s.aux = 6;
        std::memcpy(bytes, &addr.in.in6, 16);
    }
    std::memcpy(&s.a, bytes, 8);
    std::memcpy(&s.b, bytes + 8, 8);
}

// Fills `s` (zeroed: not present) from `v`; for a set or vector, sets the
// number of elements and returns them, for the caller to append after it.
// Inline, so that the caller's loop pays no call per scalar value.
inline const zeek::threading::Value::set_t* FillSlot(Slot& s, const zeek::threading::Value* v) {
    if ( ! v ) { // Defensive: Zeek marks holes with non-present values.
        s.kind = Kind::Other;
        return nullptr;
    }

    s.kind = ToKind(v->type);
    s.present = v->present;
    if ( ! v->present )
        return nullptr;

    const auto& val = v->val;
    const zeek::threading::Value::set_t* elems = nullptr;

    switch ( v->type ) {
        case zeek::TYPE_BOOL: s.a = val.int_val != 0 ? 1 : 0; break;
        case zeek::TYPE_INT: s.a = static_cast<uint64_t>(val.int_val); break;
        case zeek::TYPE_COUNT: s.a = val.uint_val; break;
        case zeek::TYPE_DOUBLE:
        case zeek::TYPE_TIME:
        case zeek::TYPE_INTERVAL: std::memcpy(&s.a, &val.double_val, sizeof(double)); break;
        case zeek::TYPE_PORT:
            s.a = val.port_val.port;
            switch ( val.port_val.proto ) {
                case TRANSPORT_TCP: s.aux = 1; break;
                case TRANSPORT_UDP: s.aux = 2; break;
                case TRANSPORT_ICMP: s.aux = 3; break;
                default: s.aux = 0; break;
            }
            break;
        case zeek::TYPE_ADDR: SetAddr(s, val.addr_val); break;
        case zeek::TYPE_SUBNET:
            SetAddr(s, val.subnet_val.prefix);
            s.n = val.subnet_val.length;
            break;
        case zeek::TYPE_STRING:
        case zeek::TYPE_ENUM:
        case zeek::TYPE_FILE:
        case zeek::TYPE_FUNC:
            s.data = reinterpret_cast<size_t>(val.string_val.data);
            s.len = val.string_val.length > 0 ? static_cast<size_t>(val.string_val.length) : 0;
            break;
        case zeek::TYPE_TABLE: elems = &val.set_val; break;
        case zeek::TYPE_VECTOR: elems = &val.vector_val; break;
        default: break; // Kind::Other: Rust writes null.
    }
    if ( elems )
        s.n = static_cast<uint32_t>(elems->size);
    return elems;
}

} // namespace

ZeroMQ::ZeroMQ(zeek::logging::WriterFrontend* frontend)
    : zeek::logging::WriterBackend(frontend),
      writer_(new_writer(ReadScriptOptions(), ZEEK_VERSION_NUMBER)),
      stop_(writer_->stop_signal()) {
    if ( ! zeek::telemetry_mgr )
        return;

    // Info() is the frontend's copy, valid here; path is the final one
    // (e.g. "dns-2"). A writer recreated for the same path gets the same
    // counters back, so the totals keep growing, as counters should.
    const char* path = Info().path ? Info().path : "";

    // zeek_zeromq_writer_records_total{path="conn",result="sent"|"dropped"}
    auto records = zeek::telemetry_mgr->CounterFamily("zeek", "zeromq_writer_records", {"path", "result"},
                                                      "Log records the ZeroMQ writer queued for its subscribers "
                                                      "(result=sent) or could not publish (result=dropped)");
    sent_ = records->GetOrAdd({{"path", path}, {"result", "sent"}});
    dropped_ = records->GetOrAdd({{"path", path}, {"result", "dropped"}});

    // zeek_zeromq_writer_bytes_total{path="conn"}: the unit goes between
    // name and _total.
    auto bytes = zeek::telemetry_mgr->CounterFamily("zeek", "zeromq_writer", {"path"},
                                                    "JSON bytes the ZeroMQ writer queued for its subscribers", "bytes");
    bytes_ = bytes->GetOrAdd({{"path", path}});
}

zeek::logging::WriterBackend* ZeroMQ::Instantiate(zeek::logging::WriterFrontend* frontend) {
    return new ZeroMQ(frontend);
}

// MsgThread's reporters take a NUL-terminated string and are non-const.
void ZeroMQ::error(rust::Str msg) const { const_cast<ZeroMQ*>(this)->Error(std::string(msg).c_str()); }

void ZeroMQ::warning(rust::Str msg) const { const_cast<ZeroMQ*>(this)->Warning(std::string(msg).c_str()); }

void ZeroMQ::info(rust::Str msg) const { const_cast<ZeroMQ*>(this)->Info(std::string(msg).c_str()); }

bool ZeroMQ::DoInit(const WriterInfo& winfo, int num_fields, const zeek::threading::Field* const* fields) {
    rust::Vec<FieldSpec> specs;
    specs.reserve(num_fields);
    for ( int i = 0; i < num_fields; ++i ) {
        const zeek::threading::Field* f = fields[i];
        specs.push_back(FieldSpec{rust::String::lossy(f->name), ToKind(f->type), ToKind(f->subtype), f->optional});
    }

    rust::Vec<KeyValue> config;
    for ( const auto& [key, value] : winfo.config )
        config.push_back(KeyValue{rust::String::lossy(key), rust::String::lossy(value)});

    const char* path = winfo.path ? winfo.path : "";
    rust::Slice<const uint8_t> path_bytes(reinterpret_cast<const uint8_t*>(path), std::strlen(path));

    writer_->init(*this, path_bytes, std::move(specs), std::move(config));
    return true;
}

void ZeroMQ::AppendElements(const zeek::threading::Value::set_t& elems) {
    for ( int i = 0; i < elems.size; ++i )
        if ( const auto* inner = FillSlot(slots_.emplace_back(), elems.vals[i]) )
            AppendElements(*inner);
}

bool ZeroMQ::DoWrite(int num_fields, const zeek::threading::Field* const* /*fields*/, zeek::threading::Value** vals) {
    slots_.clear(); // Keeps the capacity.
    // One slot per value, pre-order: a set's or vector's elements follow it.
    for ( int i = 0; i < num_fields; ++i )
        if ( const auto* elems = FillSlot(slots_.emplace_back(), vals[i]) )
            AppendElements(*elems);
    writer_->write(*this, rust::Slice<const Slot>(slots_.data(), slots_.size()));
    return true;
}

// Nothing to rotate, but Zeek requires exactly one FinishedRotation() call.
bool ZeroMQ::DoRotate(const char* /*rotated_path*/, double /*open*/, double /*close*/, bool /*terminating*/) {
    FinishedRotation();
    return true;
}

void ZeroMQ::UpdateCounters() {
    if ( ! sent_ )
        return;

    const Counts c = writer_->take_counts();
    if ( c.sent )
        sent_->Inc(static_cast<double>(c.sent));
    if ( c.dropped )
        dropped_->Inc(static_cast<double>(c.dropped));
    if ( c.bytes )
        bytes_->Inc(static_cast<double>(c.bytes));
}

// The counters follow the writer with a delay of at most one heartbeat
// (about a second of network time); DoFinish adds the rest.
bool ZeroMQ::DoFinish(double /*network_time*/) {
    writer_->finish(*this);
    UpdateCounters();
    return true;
}

bool ZeroMQ::DoHeartbeat(double /*network_time*/, double /*current_time*/) {
    writer_->heartbeat(*this);
    UpdateCounters();
    return true;
}

// Zeek's SignalStop (the logging manager's Terminate, or a removed stream
// or filter, through WriterFrontend::Stop) calls this once, before
// MsgThread's queues DoFinish behind the records already queued: the writer
// may be blocked in DoWrite now, waiting for a subscriber, and must not hold
// Zeek's WaitForStop (which waits for DoFinish) longer than zmq_linger.
void ZeroMQ::OnSignalStop() {
    stop_->raise();
    WriterBackend::OnSignalStop();
}

// Zeek's Kill (a SIGTERM or SIGINT while Zeek waits for its threads): the
// thread is to leave its loop at once; Zeek then runs no DoFinish.
void ZeroMQ::OnKill() {
    stop_->kill();
    WriterBackend::OnKill();
}

} // namespace zeromq_writer
