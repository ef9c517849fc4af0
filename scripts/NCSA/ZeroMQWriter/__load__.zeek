# "@load NCSA/ZeroMQWriter": publish log streams through ZeroMQ.
@load ./main
