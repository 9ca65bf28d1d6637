#!/usr/bin/python3
"""The web service of the testbed's "internet" namespace (started by scripts/testbed.sh).

GET /blob/<n>     answers exactly n bytes (a download of known size)
POST|PUT <any>    reads the body, throws it away, answers its byte count (an upload)
GET /health       answers "ok"

It listens on [::] with IPv4 mapped in, so every address of the namespace answers: the
inet address and every target address made local there (198.18.64.0/18, fd00:64::/64).
Requests are logged one per line to stderr with the client address as plain IPv4/IPv6,
so tests can see which source address reached the internet (the NAT address for IPv4).
"""
import argparse
import os
import re
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 64 * 1024
ZEROS = bytes(CHUNK)
# A download is bounded so that a typo cannot make the server stream for ever.
MAX_BLOB_BYTES = 16 * 1024 ** 3
BLOB_PATH = re.compile(r"/blob/(\d{1,12})")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and "Expect: 100-continue" for big uploads
    server_version = "warden-testbed-http"

    def do_GET(self):
        if self.path == "/health":
            self.reply_text(200, "ok\n")
            return
        match = BLOB_PATH.fullmatch(self.path)
        if not match:
            self.reply_text(404, "try GET /blob/<bytes>\n")
            return
        size = int(match.group(1))
        if size > MAX_BLOB_BYTES:
            self.reply_text(400, f"at most {MAX_BLOB_BYTES} bytes per blob\n")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        left = size
        while left > 0:
            step = min(left, CHUNK)
            self.wfile.write(ZEROS[:step])
            left -= step

    def do_POST(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            received = self.discard_chunked_body()
        else:
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                self.reply_text(400, "Content-Length is not a number\n")
                return
            received = self.discard(length)
        self.reply_text(200, f"{received}\n")

    do_PUT = do_POST

    def discard(self, length):
        received = 0
        while received < length:
            data = self.rfile.read(min(CHUNK, length - received))
            if not data:
                break  # the client went away; count what arrived
            received += len(data)
        return received

    def discard_chunked_body(self):
        received = 0
        while True:
            size_line = self.rfile.readline(1024)
            if not size_line:
                return received
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                # trailer lines end with an empty line
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return received
            received += self.discard(size)
            self.rfile.readline(1024)  # the CRLF after each chunk

    def reply_text(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        client = self.client_address[0].removeprefix("::ffff:")
        sys.stderr.write(f"{client} {self.log_date_time_string()} {fmt % args}\n")


class DualStackServer(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    request_queue_size = 128  # scans open many connections at once

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--pid-file", required=True,
                        help="written once the socket listens, so a starter can wait for it")
    args = parser.parse_args()
    server = DualStackServer(("::", args.port), Handler)
    tmp = f"{args.pid_file}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(tmp, args.pid_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
