// Registers the plugin and its log writer with Zeek.
//
// The global `plugin` object below registers itself with Zeek's plugin
// manager from its constructor when the .so is loaded; build.rs links this
// file with +whole-archive so the object is not dropped by the linker.
// The writer component "ZeroMQ" becomes the enum value Log::WRITER_ZEROMQ.

#include <string>

#include <zeek/EventHandler.h>
#include <zeek/RunState.h>
#include <zeek/logging/Component.h>
#include <zeek/plugin/Plugin.h>

#include "shim/ZeroMQWriter.h"

namespace zeromq_writer {

class Plugin : public zeek::plugin::Plugin {
protected:
    zeek::plugin::Configuration Configure() override {
        AddComponent(new zeek::logging::Component("ZeroMQ", ZeroMQ::Instantiate));
        EnableHook(zeek::plugin::HOOK_REPORTER);

        // Configuration's constructor also bakes in a reference to the Zeek
        // version this was compiled against, so a mismatched Zeek refuses to
        // load the plugin.
        zeek::plugin::Configuration config;
        config.name = "NCSA::ZeroMQWriter";
        config.description = "Publishes Zeek log records as JSON over ZeroMQ";
        config.version.major = version_major();
        config.version.minor = version_minor();
        config.version.patch = version_patch();
        return config;
    }

    // Main thread, for every reporter message. What our writers report once
    // Zeek terminates (the totals at DoFinish, drops, errors of writers
    // created at shutdown) still goes to stderr, but raises no reporter
    // event: in Zeek 8.0 that event's Log::write(Reporter::LOG) would start
    // a writer thread after the threading manager terminated (Zeek 8.1 and
    // later drop such events anyway). A writer thread's messages arrive as
    // "<path>/Log::WRITER_ZEROMQ: <message>" (MsgThread's ReporterMessage).
    bool HookReporter(const std::string& /*prefix*/, const zeek::EventHandlerPtr /*event*/,
                      const zeek::Connection* /*conn*/, const zeek::ValPList* /*addl*/, bool /*location*/,
                      const zeek::detail::Location* /*location1*/, const zeek::detail::Location* /*location2*/,
                      bool /*time*/, const std::string& message) override {
        return ! (zeek::run_state::terminating && message.find("/Log::WRITER_ZEROMQ: ") != std::string::npos);
    }
};

Plugin plugin;

} // namespace zeromq_writer
