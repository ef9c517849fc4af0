# @TEST-REQUIRES: which zeek && which cmake
# @TEST-DOC: make install's rules, run into a DESTDIR: the plugin directory goes into Zeek's plugin dir and zeek-zmq is linked into Zeek's bin dir, next to zeek (with --install-root: only in the plugin directory), and the output says where the command is; zkg.meta's executables, which zkg links into its bin_dir, are runnable files of the plugin build directory.
#
# @TEST-EXEC: bash %INPUT

set -eu
repo=$TEST_BASE/..
build=$ZEEK_PLUGIN_PATH
version=$(cat "$repo/VERSION")
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
fail() {
    echo "$*" >&2
    cat install.out >&2
    exit 1
}

# The Zeek this build directory was configured for.
zeek_config=$(cache ZEEK_CONFIG)
prefix=$("$zeek_config" --prefix)
root=$(cache ZEEK_PLUGIN_INSTALL_ROOT)
DESTDIR=$PWD/stage cmake --install "$build" >install.out 2>&1 || fail "cmake --install failed"

if [ -n "$root" ]; then
    cli=$root/NCSA_ZeroMQWriter/bin/zeek-zmq
    [ ! -e "stage$prefix/bin/zeek-zmq" ] || fail "--install-root, yet zeek-zmq is in Zeek's bin dir"
    grep -qF "zeek-zmq is installed as $cli (" install.out || fail "install does not say where zeek-zmq is"
else
    cli=$("$zeek_config" --plugin_dir)/NCSA_ZeroMQWriter/bin/zeek-zmq
    [ "$(readlink "stage$prefix/bin/zeek-zmq")" = "$cli" ] ||
        fail "stage$prefix/bin/zeek-zmq is not a link to $cli"
    grep -qF "zeek-zmq is installed as $prefix/bin/zeek-zmq" install.out ||
        fail "install does not say zeek-zmq is in $prefix/bin"
fi
[ "$("stage$cli" --version)" = "zeek-zmq $version" ] || fail "stage$cli --version is not zeek-zmq $version"
[ -f "stage$(dirname "$cli")/../__zeek_plugin__" ] || fail "no plugin directory around $cli"

# zkg: each of zkg.meta's executables is a file of its plugin_dir (the build
# directory, here $build), and zeek-zmq is one of them.
plugin_dir=$(sed -n 's/^plugin_dir *= *//p' "$repo/zkg.meta")
executables=$(sed -n 's/^executables *= *//p' "$repo/zkg.meta")
case " $executables " in
    *"/zeek-zmq "*) ;;
    *) fail "zkg.meta's executables ($executables) do not name zeek-zmq" ;;
esac
for exe in $executables; do
    inside=${exe#"$plugin_dir"/}
    [ "$inside" != "$exe" ] || fail "zkg.meta: $exe is not in plugin_dir $plugin_dir"
    [ -x "$build/$inside" ] || fail "zkg.meta: $exe is not an executable file of the build"
done
[ "$("$build/bin/zeek-zmq" --version)" = "zeek-zmq $version" ]
