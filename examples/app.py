"""The example app `make run` serves: a plain WSGI application."""
import json
import os


def application(environ, start_response):
    """Answer / with a greeting, /env with the request's CGI variables, /echo with the request body."""
    path = environ.get("PATH_INFO", "/")
    if path == "/env":
        body = json.dumps({k: v for k, v in environ.items() if isinstance(v, str)}, indent=1).encode()
        content_type = "application/json"
    elif path == "/echo":
        body = environ["wsgi.input"].read()
        content_type = environ.get("CONTENT_TYPE", "application/octet-stream")
    else:
        body = f"Hello from uwkernel worker pid {os.getpid()}\n".encode()
        content_type = "text/plain; charset=utf-8"
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
