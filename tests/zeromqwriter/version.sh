# @TEST-REQUIRES: which zeek
# @TEST-DOC: One version everywhere: zeek -N prints the VERSION file's version, and so does zeek-zmq --version; the plugin directory Zeek loads holds the same VERSION file.
#
# @TEST-EXEC: cat $SCRIPTS/../../VERSION >expected
# @TEST-EXEC: grep -Ex '[0-9]+\.[0-9]+\.[0-9]+' expected || { echo "VERSION is not major.minor.patch: $(cat expected)" >&2; false; }
# @TEST-EXEC: zeek -N NCSA::ZeroMQWriter >zeek.out 2>&1 || { cat zeek.out >&2; false; }
# @TEST-EXEC: grep -F "(dynamic, version $(cat expected))" zeek.out || { echo "zeek -N: $(cat zeek.out), VERSION: $(cat expected)" >&2; false; }
# @TEST-EXEC: $ZEEK_ZMQ --version >cli.out 2>&1 || { cat cli.out >&2; false; }
# @TEST-EXEC: test "$(cat cli.out)" = "zeek-zmq $(cat expected)" || { echo "zeek-zmq --version: $(cat cli.out), VERSION: $(cat expected)" >&2; false; }
# @TEST-EXEC: cmp expected $ZEEK_PLUGIN_PATH/VERSION
