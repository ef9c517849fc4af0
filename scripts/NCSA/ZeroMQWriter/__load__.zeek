# "@load NCSA/ZeroMQWriter": publish log streams through ZeroMQ.
@load ./main
# Runs the original plugin's "event bro_init()" examples.
@load ./bro-init
