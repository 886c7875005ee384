"""uWSGI's decorators, for code written as ``from uwsgidecorators import *``.

Pure Python over the ``uwsgi`` module alone, as in uWSGI. Differences, all improvements on uWSGI's
known defects:

* plain ``@spool``/``@spoolraw``/``@spoolforever`` accept str, bytes and int values (``priority``
  included); each arrives as str (UTF-8 decoded, as uWSGI does on Python 3), except a value that is
  not valid UTF-8, which arrives as bytes instead of failing forever; ``body`` arrives as the type it
  was given (bytes or str);
* ``pass_arguments=True`` round-trips any picklable value with its type; the keywords
  ``message_dict``, ``spooler``, ``priority``, ``at`` and ``body`` go to the spool dict instead, as in
  uWSGI (a value that cannot be written there raises ``ValueError``, as uWSGI's ``uwsgi.spool`` does);
* the errors for a missing master or spooler say which option to set.
"""
from __future__ import annotations

import functools
import pickle
import sys
import threading

import uwsgi

if uwsgi.masterpid() == 0:
    raise Exception("uwsgidecorators needs the master process: add `master = true` to the configuration")

spooler_functions: dict = {}
mule_functions: dict = {}
postfork_chain: list = []

# Keys lifted out of pass_arguments kwargs into the spool dict, as uWSGI does: the function never gets
# them (the spooler reads spooler, priority, at and body; message_dict is only written in the task).
_SPOOLER_KEYS = ("message_dict", "spooler", "priority", "at", "body")
# Marks a body that was given as str, so the dispatcher hands it back as str.
_BODY_IS_STR = "ud_spool_body_str"


def get_free_signal() -> int:
    """The lowest signal number (0-255) nobody registered yet."""
    for signum in range(256):
        if not uwsgi.signal_registered(signum):
            return signum
    raise Exception("No free uwsgi signal available")


def _text(value):
    """A spooled value as the decorators deliver it: str when it is UTF-8, bytes otherwise."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def manage_spool_request(vars):
    """The spooler callable: find the decorated function named in the task and run it."""
    task = {(k.decode("utf-8") if isinstance(k, bytes) else k): v for k, v in vars.items()}
    body_is_str = task.pop(_BODY_IS_STR, None) is not None
    for key, value in task.items():
        if key not in ("args", "kwargs", "body"):
            task[key] = _text(value)
    if body_is_str and isinstance(task.get("body"), bytes):
        task["body"] = task["body"].decode("utf-8")
    f = spooler_functions[task["ud_spool_func"]]
    if "args" in task:
        args = pickle.loads(task.pop("args"))
        kwargs = pickle.loads(task.pop("kwargs"))
        ret = f(*args, **kwargs)
    else:
        ret = f(task)
    if "ud_spool_ret" not in task:
        return ret
    return int(task["ud_spool_ret"])


def postfork_chain_hook() -> None:
    """Run every ``@postfork`` function (and mule/farm loops) in a new process."""
    for f in postfork_chain:
        f()


uwsgi.spooler = manage_spool_request
uwsgi.post_fork_hook = postfork_chain_hook


def _spool_value(key, value):
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    hint = ("it is written in the task, not pickled" if key in _SPOOLER_KEYS
            else "use pass_arguments=True for other types")
    # ValueError, as uwsgi.spool raises for such a value in uWSGI
    raise ValueError(f"spool value {key!r} must be str, bytes or a number, not {type(value).__name__} ({hint})")


class _spoolraw:
    """``@spoolraw``: calling the function spools it; its return value is the spool result."""

    ret = None

    def __init__(self, f, pass_arguments):
        if "spooler" not in uwsgi.opt:
            raise Exception(f"@{self.__class__.__name__.lstrip('_')} needs a spooler: add `spooler = DIR` to the "
                            "configuration (plugin uwkernel-spooler)")
        self.f = f
        spooler_functions[f.__name__] = f
        self.f.spool = self.__call__
        self.pass_arguments = pass_arguments
        self.base_dict = {"ud_spool_func": f.__name__}
        if self.ret is not None:
            self.base_dict["ud_spool_ret"] = str(self.ret)
        functools.update_wrapper(self, f)

    def __call__(self, *args, **kwargs):
        arguments = dict(self.base_dict)
        if not self.pass_arguments:
            if args:
                arguments.update(args[0])
            arguments.update(kwargs)
        else:
            for key in _SPOOLER_KEYS:
                if key in kwargs:
                    arguments[key] = kwargs.pop(key)
            arguments["args"] = pickle.dumps(args)
            arguments["kwargs"] = pickle.dumps(kwargs)
        if isinstance(arguments.get("body"), str):
            arguments["body"] = arguments["body"].encode("utf-8")
            arguments[_BODY_IS_STR] = "1"
        return uwsgi.spool({k: v if k in ("args", "kwargs", "body") else _spool_value(k, v)
                            for k, v in arguments.items()})


class _spool(_spoolraw):
    """``@spool``: the task is removed after it ran (SPOOL_OK), whatever the function returned."""

    ret = -2  # SPOOL_OK


class _spoolforever(_spoolraw):
    """``@spoolforever``: the task runs again at every spooler pass (SPOOL_RETRY)."""

    ret = -1  # SPOOL_RETRY


def spool_decorate(f=None, pass_arguments=False, _class=_spoolraw):
    """Apply a spool decorator class, with or without arguments."""
    if not f:
        return functools.partial(_class, pass_arguments=pass_arguments)
    return _class(f, pass_arguments)


def spoolraw(f=None, pass_arguments=False):
    """Spool calls of ``f``; the spooler uses its return value (SPOOL_OK, SPOOL_RETRY, ...)."""
    return spool_decorate(f, pass_arguments)


def spool(f=None, pass_arguments=False):
    """Spool calls of ``f``; each task runs once."""
    return spool_decorate(f, pass_arguments, _spool)


def spoolforever(f=None, pass_arguments=False):
    """Spool calls of ``f``; each task runs again at every spooler pass."""
    return spool_decorate(f, pass_arguments, _spoolforever)


class mulefunc:
    """``@mulefunc`` / ``@mulefunc(N or 'farm')``: calling the function runs it in a mule."""

    def __init__(self, f):
        if isinstance(f, (str, int)):
            self.fname = None
            self.mule = f
        else:
            self.mule = 0
            self.fname = f.__name__
            mule_functions[self.fname] = f

    def real_call(self, *args, **kwargs):
        """Send the call to the mule (or farm) as a pickled message; returns at once."""
        uwsgi.mule_msg(pickle.dumps({"service": "uwsgi_mulefunc", "func": self.fname, "args": args,
                                     "kwargs": kwargs}), self.mule)

    def __call__(self, *args, **kwargs):
        if not self.fname:
            self.fname = args[0].__name__
            mule_functions[self.fname] = args[0]
            return self.real_call
        return self.real_call(*args, **kwargs)


def mule_msg_dispatcher(message):
    """The mule message hook: run a ``@mulefunc`` call."""
    msg = pickle.loads(message)
    if msg["service"] == "uwsgi_mulefunc":
        return mule_functions[msg["func"]](*msg["args"], **msg["kwargs"])


uwsgi.mule_msg_hook = mule_msg_dispatcher


class rpc:
    """``@rpc(name)``: register the function as an RPC function."""

    def __init__(self, name):
        self.name = name

    def __call__(self, f):
        uwsgi.register_rpc(self.name, f)
        return f


class farm_loop:
    """Run ``f(message)`` for every message of a farm, in the mules of that farm."""

    def __init__(self, f, farm):
        self.f = f
        self.farm = farm

    def __call__(self):
        if uwsgi.mule_id() == 0 or not uwsgi.in_farm(self.farm):
            return
        while True:
            message = uwsgi.farm_get_msg()
            if message:
                self.f(message)


class farm:
    """``@farm(name)``: the function receives the messages sent to that farm."""

    def __init__(self, name=None, **kwargs):
        self.name = name

    def __call__(self, f):
        postfork_chain.append(farm_loop(f, self.name))
        return f


class mule_brain:
    """Run ``f()`` once in mule ``num``."""

    def __init__(self, f, num):
        self.f = f
        self.num = num

    def __call__(self):
        if uwsgi.mule_id() == self.num:
            try:
                self.f()
            except BaseException:
                sys.excepthook(*sys.exc_info())
                sys.exit(1)


class mule_brainloop(mule_brain):
    """Run ``f()`` forever in mule ``num``."""

    def __call__(self):
        if uwsgi.mule_id() == self.num:
            while True:
                try:
                    self.f()
                except BaseException:
                    sys.excepthook(*sys.exc_info())
                    sys.exit(1)


class mule:
    """``@mule(N)``: run the function once in mule N."""

    def __init__(self, num):
        self.num = num

    def __call__(self, f):
        postfork_chain.append(mule_brain(f, self.num))
        return f


class muleloop(mule):
    """``@muleloop(N)``: run the function forever in mule N."""

    def __call__(self, f):
        postfork_chain.append(mule_brainloop(f, self.num))
        return f


class mulemsg_loop:
    """Run ``f(message)`` for every message mule ``num`` receives."""

    def __init__(self, f, num):
        self.f = f
        self.num = num

    def __call__(self):
        if uwsgi.mule_id() == self.num:
            while True:
                message = uwsgi.mule_get_msg()
                if message:
                    self.f(message)


class mulemsg:
    """``@mulemsg(N)``: the function receives the messages sent to mule N."""

    def __init__(self, num):
        self.num = num

    def __call__(self, f):
        postfork_chain.append(mulemsg_loop(f, self.num))
        return f


class signal:
    """``@signal(num, target='')``: register the function as the handler of signal ``num``."""

    def __init__(self, num, **kwargs):
        self.num = num
        self.target = kwargs.get("target", "")

    def __call__(self, f):
        uwsgi.register_signal(self.num, self.target, f)
        return f


class timer:
    """``@timer(secs, signum=None, target='')``: run the function every ``secs`` seconds."""

    def __init__(self, secs, **kwargs):
        self.num = kwargs.get("signum", None)
        if self.num is None:
            self.num = get_free_signal()
        self.secs = secs
        self.target = kwargs.get("target", "")

    def __call__(self, f):
        uwsgi.register_signal(self.num, self.target, f)
        uwsgi.add_timer(self.num, self.secs)
        return f


class mstimer(timer):
    """``@mstimer(msecs, ...)``: run the function every ``msecs`` milliseconds."""

    def __call__(self, f):
        uwsgi.register_signal(self.num, self.target, f)
        uwsgi.add_ms_timer(self.num, self.secs)
        return f


class rbtimer(timer):
    """``@rbtimer(secs, ...)``: a red-black-tree timer (re-armed by the master)."""

    def __call__(self, f):
        uwsgi.register_signal(self.num, self.target, f)
        uwsgi.add_rb_timer(self.num, self.secs)
        return f


class cron:
    """``@cron(minute, hour, day, month, dayweek, target='')``: run the function on a cron schedule."""

    def __init__(self, minute, hour, day, month, dayweek, **kwargs):
        self.num = kwargs.get("signum", None)
        if self.num is None:
            self.num = get_free_signal()
        self.minute, self.hour, self.day, self.month, self.dayweek = minute, hour, day, month, dayweek
        self.target = kwargs.get("target", "")

    def __call__(self, f):
        uwsgi.register_signal(self.num, self.target, f)
        uwsgi.add_cron(self.num, self.minute, self.hour, self.day, self.month, self.dayweek)
        return f


class filemon:
    """``@filemon(path, target='')``: run the function when ``path`` changes."""

    def __init__(self, fsobj, **kwargs):
        self.num = kwargs.get("signum", None)
        if self.num is None:
            self.num = get_free_signal()
        self.fsobj = fsobj
        self.target = kwargs.get("target", "")

    def __call__(self, f):
        uwsgi.register_signal(self.num, self.target, f)
        uwsgi.add_file_monitor(self.num, self.fsobj)
        return f


class lock:
    """``@lock``: run the function holding uWSGI lock 0 (across every process of the instance)."""

    def __init__(self, f):
        self.f = f
        functools.update_wrapper(self, f)

    def __call__(self, *args, **kwargs):
        if getattr(uwsgi, "i_am_the_spooler", lambda: None)():
            return self.f(*args, **kwargs)
        uwsgi.lock()
        try:
            return self.f(*args, **kwargs)
        finally:
            uwsgi.unlock()


class thread:
    """``@thread``: calling the function runs it in a new daemon thread."""

    def __init__(self, f):
        self.f = f

    def __call__(self, *args, **kwargs):
        t = threading.Thread(target=self.f, args=args, kwargs=kwargs)
        t.daemon = True
        t.start()
        return self.f


class harakiri:
    """``@harakiri(seconds)``: the worker is killed if one call runs longer than ``seconds``."""

    def __init__(self, seconds):
        self.s = seconds

    def __call__(self, f):
        @functools.wraps(f)
        def real_call(*args, **kwargs):
            uwsgi.set_user_harakiri(self.s)
            try:
                return f(*args, **kwargs)
            finally:
                uwsgi.set_user_harakiri(0)

        return real_call


class postfork:
    """``@postfork`` / ``@postfork(worker_id)``: run the function in every new process (or one worker)."""

    def __init__(self, f):
        if callable(f):
            self.wid = 0
            self.f = f
        else:
            self.f = None
            self.wid = f
        postfork_chain.append(self)

    def __call__(self, *args, **kwargs):
        if self.f:
            if self.wid > 0 and self.wid != uwsgi.worker_id():
                return None
            return self.f()
        self.f = args[0]
        return self
