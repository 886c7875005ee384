"""The one WSGI app every server in the benchmark runs: 13 bytes of hello-world on any path, 1 MiB on /1mb."""

HELLO = b"Hello, World!"
ONE_MB = b"x" * (1024 * 1024)


def application(environ, start_response):
    """Answer 200 with a fixed body and its Content-Length (so keep-alive is possible everywhere)."""
    body = ONE_MB if environ.get("PATH_INFO") == "/1mb" else HELLO
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
