"""A WSGI app that always answers 200."""


def application(environ, start_response):
    """Always 200."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
