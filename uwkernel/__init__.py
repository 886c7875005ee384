"""uwkernel: a uWSGI-compatible application server kernel.

The kernel defines hook specifications (:mod:`uwkernel.hookspecs`), loads plugins from the
entry-point group ``uwkernel.plugins`` (:mod:`uwkernel.plugins`), parses configuration
(:mod:`uwkernel.config`) and runs the lifecycle phases (:mod:`uwkernel.phases`).
Plugins implement hooks with the :data:`hookimpl` marker::

    from uwkernel import hookimpl

    @hookimpl
    def uwkernel_add_options():
        return [Option("greeting", help="a word to say")]
"""
import pluggy

__version__ = "0.1.0"

#: The uWSGI version uwkernel is compatible with (what ``uwsgi.version`` reports).
UWSGI_COMPAT_VERSION = "2.0.31"

PROJECT_NAME = "uwkernel"
ENTRY_POINT_GROUP = "uwkernel.plugins"

#: Marker for hook implementations in plugins.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
#: Marker for hook specifications (used by :mod:`uwkernel.hookspecs`).
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
