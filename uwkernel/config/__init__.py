"""Configuration: uWSGI's sources and syntax read into one resolved :class:`Config`.

:func:`read_sources` reads the environment, the command line and the config files they name into a
list of :class:`Entry`; :func:`build_config` expands placeholders, types the values against the
option registry and checks the keys. ``uwsgi_option(name)`` looks a name up in real uWSGI's
option table.
"""
from .build import build_config
from .model import Config, Entry
from .sources import read_sources
from .uwsgi_table import UwsgiOptionInfo, uwsgi_option

__all__ = ["Config", "Entry", "UwsgiOptionInfo", "build_config", "read_sources", "uwsgi_option"]
