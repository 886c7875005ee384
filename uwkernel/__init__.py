"""uwkernel: a uWSGI-compatible application server kernel.

The kernel defines hook specifications (:mod:`uwkernel.hookspecs`), loads plugins from the
entry-point group ``uwkernel.plugins`` (:mod:`uwkernel.plugins`), parses configuration
(:mod:`uwkernel.config`) and runs the lifecycle phases (:mod:`uwkernel.phases`).
Plugins implement hooks with the :data:`hookimpl` marker::

    from uwkernel import hookimpl

    @hookimpl
    def uwkernel_add_options():
        return [Option("greeting", help="a word to say")]

The markers are made when first asked for: ``import uwkernel`` alone does not import pluggy (nor typing
and inspect with it), so ``uwkernel.cli`` can import it with the cyclic garbage collector off.
"""
__version__ = "0.1.0"

#: The uWSGI version uwkernel is compatible with (what ``uwsgi.version`` reports).
UWSGI_COMPAT_VERSION = "2.0.31"

PROJECT_NAME = "uwkernel"
ENTRY_POINT_GROUP = "uwkernel.plugins"


def __getattr__(name: str):
    """``hookimpl`` and ``hookspec``: pluggy's markers of the project ``uwkernel``, made at the first use.

    ``hookimpl`` marks hook implementations in plugins; ``hookspec`` the specifications (:mod:`uwkernel.hookspecs`).
    """
    if name not in ("hookimpl", "hookspec"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import pluggy

    globals().update(hookimpl=pluggy.HookimplMarker(PROJECT_NAME), hookspec=pluggy.HookspecMarker(PROJECT_NAME))
    return globals()[name]
