"""The kernel's own hook implementations: registered with the plugin manager as the plugin ``kernel``."""
from __future__ import annotations

from . import hookimpl
from .options import KERNEL_OPTIONS
from .types import Option, UwsgiPluginName

#: uWSGI plugins whose features the kernel itself provides: HTTP serving (``http`` sockets are
#: served by the workers directly, so the router's ``corerouter`` is not needed either).
BUILT_IN_UWSGI_PLUGINS = ("http", "corerouter")


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """The kernel's own options."""
    return KERNEL_OPTIONS


@hookimpl
def uwkernel_add_uwsgi_plugin_names() -> list[UwsgiPluginName]:
    """The uWSGI plugin names the kernel stands in for."""
    return [UwsgiPluginName(name) for name in BUILT_IN_UWSGI_PLUGINS]
