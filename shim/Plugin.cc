// Registers the plugin and its log writer with Zeek.
//
// The global `plugin` object below registers itself with Zeek's plugin
// manager from its constructor when the .so is loaded; build.rs links this
// file with +whole-archive so the object is not dropped by the linker.
// The writer component "ZeroMQ" becomes the enum value Log::WRITER_ZEROMQ.

#include <zeek/logging/Component.h>
#include <zeek/plugin/Plugin.h>

#include "shim/ZeroMQWriter.h"

namespace zeromq_writer {

class Plugin : public zeek::plugin::Plugin {
protected:
    zeek::plugin::Configuration Configure() override {
        AddComponent(new zeek::logging::Component("ZeroMQ", ZeroMQ::Instantiate));

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
};

Plugin plugin;

} // namespace zeromq_writer
