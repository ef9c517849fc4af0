##! ``bro_init`` for configurations written for the original plugin.
##!
##! Zeek 3.1 removed the event ``bro_init`` (Zeek 3.0 ran its handlers as
##! :zeek:see:`zeek_init` handlers, with a deprecation warning). Sites that
##! switch from the original NCSA::ZeroMQWriter to this one may still have its
##! README's examples in their ``local.bro``, such as a second subscriber's
##! filters added in ``event bro_init() &priority=-10``: Zeek 8 would only warn
##! that the event does not exist and never run the handler, silently losing
##! that feed. Here ``bro_init`` exists again, deprecated, so that each
##! handler gets one warning naming its file and line, and it is raised once
##! at startup, after every :zeek:see:`zeek_init` handler has run (so after
##! the ``default-zmq`` filters exist, as with the original's ordering).
##! Scripts without a ``bro_init`` handler see no difference.

# Guarded like init.zeek: two copies of these scripts may load (the plugin's
# own and a zkg package copy).
@ifndef ( bro_init )

## Deprecated: raised once, right after :zeek:see:`zeek_init`, for handlers
## written for Zeek versions before 3.1. Rename them to ``zeek_init``.
global bro_init: event() &deprecated="Zeek 3.1 removed bro_init; NCSA::ZeroMQWriter still raises it once, after zeek_init: rename the handler to zeek_init";

# Queued from a zeek_init handler, bro_init is dispatched once all zeek_init
# handlers have run, whatever their priorities; the handlers of bro_init keep
# their own order.
@pragma push ignore-deprecations
event zeek_init()
	{
	event bro_init();
	}
@pragma pop ignore-deprecations

@endif
