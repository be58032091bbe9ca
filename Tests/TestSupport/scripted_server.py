"""A tiny HTTP server for AWSKit's retry tests, on 127.0.0.1 and a free port.

Usage: scripted_server.py STEP[,STEP…]   (prints "PORT <n>" once listening)
Each request consumes the next step; after the last, every request succeeds.
  throttle  HTTP 503 with EC2's RequestLimitExceeded error
  503       HTTP 503 with a plain ServiceUnavailable body
  reset     read the request, then reset the TCP connection (RST, no answer)
  ok        an empty DescribeInstances answer
"""
import http.server
import socket
import struct
import sys
import threading

STEPS = [s for s in sys.argv[1].split(",") if s] if len(sys.argv) > 1 else []
LOCK = threading.Lock()

OK = b"""<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
<requestId>ok-1</requestId><reservationSet/></DescribeInstancesResponse>"""
THROTTLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors>
<RequestID>throttled-1</RequestID></Response>"""
UNAVAILABLE = b"<html><body>Service Unavailable</body></html>"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with LOCK:
            step = STEPS.pop(0) if STEPS else "ok"
        if step == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        status, body, kind = {
            "throttle": (503, THROTTLE, "text/xml"),
            "503": (503, UNAVAILABLE, "text/html"),
        }.get(step, (200, OK, "text/xml"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
