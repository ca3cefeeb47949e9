"""Local stand-ins for the gateways notices go to: an HTTP sink and an SMTP server on 127.0.0.1."""
import email
import email.policy
import json
import socket
import threading
import time

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # the test reads `received`, not a log line per request
        pass


class HttpSink:
    """Records every request (path, query, JSON body); answers `status` after `delay` seconds."""

    def __init__(self, status=200, delay=0.0, answer="ok"):
        self.status, self.delay, self.answer = status, delay, answer
        self.received = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True,
                                  request_handler=QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @Request.application
    def app(self, request):
        if self.delay:
            time.sleep(self.delay)
        body = request.get_data(as_text=True)
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        with self._lock:
            self.received.append({"path": request.path, "args": dict(request.args), "body": body, "json": payload})
        return Response(self.answer, status=self.status)

    def url(self, path="/"):
        return f"json://127.0.0.1:{self.port}{path}"

    def messages(self, path=None):
        with self._lock:
            return [r["json"]["message"] for r in self.received if path is None or r["path"] == path]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class SmtpSink:
    """A plain SMTP server (aiosmtpd) keeping each mail's recipients, subject and text."""

    def __init__(self):
        self.received = []
        self.port = free_port()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain",))
        self.received.append({"to": list(envelope.rcpt_tos), "subject": str(message["subject"]),
                              "text": part.get_content().strip() if part else ""})
        return "250 OK"

    def url(self, to="officer@county.local"):
        return f"mailto://127.0.0.1:{self.port}?from=ztc@county.local&to={to}&mode=insecure"

    def __enter__(self):
        from aiosmtpd.controller import Controller
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
