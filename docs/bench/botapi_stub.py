# Minimal loopback Bot API stub for the idle-CPU measurement: getMe, empty long polls.
import json, sys, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else b''
        method = self.path.rsplit('/', 1)[-1].lower()
        if method == 'getme':
            result = {"id": 42, "is_bot": True, "first_name": "Bench", "username": "bench_bot",
                      "can_join_groups": False, "can_read_all_group_messages": False,
                      "supports_inline_queries": False, "can_connect_to_business": False,
                      "has_main_web_app": False}
        elif method == 'getupdates':
            try:
                t = json.loads(body or b'{}').get('timeout', 0)
            except Exception:
                t = 0
            time.sleep(min(int(t or 0), 30))
            result = []
        else:
            result = True
        out = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)

ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
