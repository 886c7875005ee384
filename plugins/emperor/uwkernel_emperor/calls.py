"""uWSGI's ``call-as-vassal1``/``3`` and ``call-as-emperor1``/``2``/``4``: C functions given the vassal.

The function is found as ``dlsym(RTLD_DEFAULT, name)`` finds it: in the process and in every library
loaded with ``RTLD_GLOBAL`` (the exec plugin's ``dlopen`` option). Arguments, as in uWSGI: the
vassal's config file (``char *``), then its pid, uid and gid (ints).
"""
from __future__ import annotations

from uwkernel import log

from . import CALL_OPTIONS


def run_calls(prefix: str, config, fatal: bool, **vassal) -> None:
    """Call every function of the ``PREFIX*`` options above with the vassal's values.

    A function that cannot be found raises LookupError when ``fatal``; otherwise it is logged and
    the next one is called.
    """
    import ctypes  # here: only the Emperor's processes call C functions

    process = ctypes.CDLL(None)
    for option, fields in CALL_OPTIONS.items():
        if not option.startswith(prefix):
            continue
        for name in config[option]:
            try:
                func = getattr(process, name)
            except AttributeError:
                if fatal:
                    raise LookupError(f'unable to call function "{name}" ({option})') from None
                log.log(f'[emperor] unable to call function "{name}" ({option}, not fatal)')
                continue
            func.restype = None
            func(*(vassal[f].encode() if f == "path" else ctypes.c_int(vassal[f]) for f in fields))
