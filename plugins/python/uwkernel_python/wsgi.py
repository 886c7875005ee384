"""Running one WSGI application over one request, PEP 3333 error handling included.

The application's exceptions never escape: its traceback is logged and the client gets a 500 when no
byte of the response went out yet, else the connection is closed (the response is cut short). The
iterable's ``close()`` is always called. A client that goes away while the response is sent is logged
in one line and is not counted as an application exception, nor is a malformed request body (answered
with its 4xx status when nothing went out yet).
"""
from __future__ import annotations

from typing import Callable

from uwkernel import log
from uwkernel.proto import ConnectionClosed, ProtocolError

from .response import Response, ResponseError, WriteError


def describe(environ: dict) -> str:
    """``GET /path (127.0.0.1)``: the request as log lines name it."""
    uri = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    return f"{environ.get('REQUEST_METHOD', '')} {uri} ({environ.get('REMOTE_ADDR', '')})"


def call_app(wsgi_callable: Callable, environ: dict, response: Response) -> bool:
    """Call the app, send what it returns, close it; return True when the app raised (or broke WSGI)."""
    result = None
    failed = False
    try:
        result = wsgi_callable(environ, response.start_response)
        response.send_result(result)
    except (WriteError, ConnectionClosed) as exc:
        response.keep_alive = False
        log.log(f"{exc.strerror or exc} during {describe(environ)}")
    except ProtocolError as exc:
        log.log(f"invalid request body during {describe(environ)}: {exc.message} ({exc.status})")
        response.reusable = False
        fail_response(response, exc.status)
    except ResponseError as exc:
        log.log(f"invalid WSGI response during {describe(environ)}: {exc}")
        failed = True
        fail_response(response)
    except Exception:
        import traceback  # error paths only: not at start-up

        log.log(traceback.format_exc().rstrip("\n"))
        failed = True
        fail_response(response)
    close = getattr(result, "close", None) if type(result) is not list else None  # lists have no close()
    if close is not None:
        try:
            close()
        except Exception:
            import traceback  # error paths only: not at start-up

            log.log(traceback.format_exc().rstrip("\n"))
            failed = True
    return failed


def fail_response(response: Response, status: int = 500) -> None:
    """After a failure: an error response if nothing went out yet, else make sure the connection ends."""
    if response.head_sent:
        response.keep_alive = False
        return
    from http import HTTPStatus  # error paths only: not at start-up

    reason = HTTPStatus(status).phrase
    try:
        response.send_error(f"{status} {reason}", reason.encode())
    except (WriteError, ResponseError):
        response.keep_alive = False


def no_app(response: Response) -> None:
    """Answer a request no app can serve: uWSGI's log line and a 500."""
    log.log("--- no python application found, check your startup logs for errors ---")
    fail_response(response)
