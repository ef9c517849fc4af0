# Run by "make install" (cmake --install) once the plugin directory is in
# place: links zeek-zmq into Zeek's bin directory, next to zeek, and says
# where the command is. Set by CMakeLists.txt:
#   CLI_PLUGIN_BIN   the installed <plugin dir>/NCSA_ZeroMQWriter/bin/zeek-zmq
#   CLI_BIN_DIR      Zeek's bin directory (zeek-config --prefix)/bin, or empty
#   CLI_NO_BIN_DIR   why there is none (e.g. --install-root was given)
# Under DESTDIR (packaging) the link is made in the staged tree, naming the
# final path.
#
# Zeek's bin directory is often not on PATH, zeek being linked into one that
# is (/usr/local/bin/zeek -> /opt/zeek/bin/zeek): then, outside DESTDIR,
# zeek-zmq is linked beside that zeek as well, unless a file of that name
# that is not a link is there.

set(command "${CLI_PLUGIN_BIN}")
set(why_not "${CLI_NO_BIN_DIR}")
if (CLI_BIN_DIR)
    set(link "${CLI_BIN_DIR}/zeek-zmq")
    if (DEFINED ENV{DESTDIR} OR IS_DIRECTORY "${CLI_BIN_DIR}")
        file(MAKE_DIRECTORY "$ENV{DESTDIR}${CLI_BIN_DIR}")
        file(REMOVE "$ENV{DESTDIR}${link}")
        file(CREATE_LINK "${CLI_PLUGIN_BIN}" "$ENV{DESTDIR}${link}" SYMBOLIC)
        message(STATUS "Installing: $ENV{DESTDIR}${link} -> ${CLI_PLUGIN_BIN}")
        set(command "${link}")
        set(why_not "")
    else ()
        set(why_not "Zeek's bin directory ${CLI_BIN_DIR} does not exist")
    endif ()
endif ()

string(REPLACE ":" ";" path_dirs "$ENV{PATH}")

# The zeek on PATH, if it is a link to the zeek in CLI_BIN_DIR, outside it.
set(zeek_on_path "")
list(FIND path_dirs "${CLI_BIN_DIR}" bin_dir_on_path)
if (NOT why_not AND NOT DEFINED ENV{DESTDIR} AND bin_dir_on_path EQUAL -1)
    foreach (dir IN LISTS path_dirs)
        if (EXISTS "${dir}/zeek")
            get_filename_component(found "${dir}/zeek" REALPATH)
            get_filename_component(ours "${CLI_BIN_DIR}/zeek" REALPATH)
            if (IS_SYMLINK "${dir}/zeek" AND found STREQUAL ours)
                set(zeek_on_path "${dir}/zeek")
            endif ()
            break()
        endif ()
    endforeach ()
endif ()
if (zeek_on_path)
    get_filename_component(dir "${zeek_on_path}" DIRECTORY)
    set(beside "${dir}/zeek-zmq")
    if (EXISTS "${beside}" AND NOT IS_SYMLINK "${beside}")
        message(STATUS "Not linking ${beside}: a file of that name is there")
    else ()
        file(REMOVE "${beside}")
        file(CREATE_LINK "${command}" "${beside}" SYMBOLIC RESULT failed)
        if (failed)
            message(STATUS "Cannot link ${beside}: ${failed}")
        else ()
            message(STATUS "Installing: ${beside} -> ${command} "
                           "(beside ${zeek_on_path}, a link to Zeek's)")
            set(command "${beside}")
        endif ()
    endif ()
endif ()

get_filename_component(command_dir "${command}" DIRECTORY)
list(FIND path_dirs "${command_dir}" on_path)
if (why_not)
    message(STATUS "zeek-zmq is installed as ${command} (${why_not}): "
                   "add ${command_dir} to PATH, or link it into a directory on PATH")
elseif (on_path EQUAL -1)
    message(STATUS "zeek-zmq is installed as ${command}; ${command_dir} is not on PATH: "
                   "add it (as for zeek), or run ${command}")
else ()
    message(STATUS "zeek-zmq is installed as ${command}")
endif ()
