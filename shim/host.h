// The reporter interface Rust calls back into (see src/bridge.rs).
// Deliberately free of Zeek headers: the bridge is compiled and tested
// without Zeek; the backend in ZeroMQWriter.h implements it.
#pragma once

#include "rust/cxx.h"

namespace zeromq_writer {

class Host {
public:
    virtual ~Host() = default;
    virtual void error(rust::Str msg) const = 0;
    virtual void warning(rust::Str msg) const = 0;
    virtual void info(rust::Str msg) const = 0;
};

} // namespace zeromq_writer
