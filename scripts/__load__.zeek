# Loaded automatically whenever the plugin is activated (always, unless Zeek
# runs in bare mode; there, name the plugin on the command line or use
# "@load-plugin NCSA::ZeroMQWriter").
#
# Only the option declarations live here, so that they exist before any site
# script redefs them. Publishing logs is opt-in: "@load NCSA/ZeroMQWriter".

@load ./init.zeek
