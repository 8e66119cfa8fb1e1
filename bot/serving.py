"""A threaded WSGI server on a daemon thread: the demo, the tests, and Socket Mode's health checks.

Production HTTP is gunicorn (see the Procfile); this is for in-process serving only.
"""

import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def serve_wsgi(app, host: str = "127.0.0.1", port: int = 0) -> tuple[WSGIServer, str]:
    """Serve a WSGI app on loopback in a daemon thread; answers the server and its base URL."""
    server = make_server(host, port, app, server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_port}"
