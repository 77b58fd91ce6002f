#!/usr/bin/env python3
"""Local endpoints for the verification tests, on 127.0.0.1 only: pools of each family (plain
and TLS), and services that are not pools. Prints one JSON line naming each endpoint's port
once all listen, then serves until its standard input closes (the test ending).

The pools answer as the protocol documents and real pools do (xmrig's Client.cpp and nodejs-pool for CryptoNote, the Stratum V1 documents and ckpool for
Bitcoin stratum, eth-proxy for ETH): a login is answered with a job or with an error in the
pool's words, a subscription with an extranonce followed by a difficulty and a job.

Usage: local_pools.py CERT KEY   (a self-signed certificate for the TLS endpoints)
"""
import http.server
import json
import socket
import socketserver
import ssl
import sys
import threading

CERT, KEY = sys.argv[1], sys.argv[2]

BLOB = "0e0ea0cbe0a206" + "ab" * 69  # 76 bytes: a CryptoNote hashing blob's length
SEED = "c3" * 32


def cryptonote_pool(validating):
    """xmrig-proxy accepts any login and sends a job; a public pool (nodejs-pool) checks the
    wallet first and answers a bad one with an error."""

    def answer(msg):
        if msg.get("method") != "login":
            return [{"id": msg.get("id"), "jsonrpc": "2.0", "error": {"code": -1, "message": "Unauthenticated"}}]
        if validating:
            return [{"id": msg["id"], "jsonrpc": "2.0",
                     "error": {"code": -1, "message": "Invalid payment address provided: minewatch-verify"}}]
        job = {"blob": BLOB, "job_id": "744306712", "target": "b88d0600", "algo": "rx/0", "height": 3281945,
               "seed_hash": SEED}
        return [{"id": msg["id"], "jsonrpc": "2.0", "error": None,
                 "result": {"id": "9cfb3a2e", "job": job, "extensions": ["algo", "keepalive"], "status": "OK"}}]

    return answer


def stratum_pool(msg):
    """ckpool-style Bitcoin stratum: unknown methods get an error, a subscription its extranonce,
    then the difficulty and a job."""
    method = msg.get("method")
    if method == "mining.subscribe":
        return [
            {"id": msg["id"], "result": [[["mining.set_difficulty", "1"], ["mining.notify", "1"]], "2a650d9c", 8],
             "error": None},
            {"id": None, "method": "mining.set_difficulty", "params": [65536]},
            {"id": None, "method": "mining.notify",
             "params": ["66b5c5e0000000a1", "d2a4" * 16, "01000000010000", "ffffffff0100f2052a", [],
                        "20000000", "17034219", "674b1e2a", True]},
        ]
    if method == "mining.authorize":
        return [{"id": msg["id"], "result": False, "error": [24, "Unauthorized worker", None]}]
    return [{"id": msg.get("id"), "result": None, "error": [20, "Method not found", None]}]


def eth_proxy_pool(msg):
    method = msg.get("method")
    if method == "eth_submitLogin":
        return [{"id": msg["id"], "jsonrpc": "2.0", "result": True}]
    if method == "eth_getWork":
        return [{"id": msg["id"], "jsonrpc": "2.0",
                 "result": ["0x" + "5e" * 32, "0x" + "7a" * 32, "0x" + "0000000112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba"]}]
    return [{"id": msg.get("id"), "jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}}]


def json_rpc_node(msg):
    """A JSON-RPC service that is not a pool (a node's raw RPC): it knows none of the methods."""
    return [{"id": msg.get("id"), "jsonrpc": "2.0", "error": {"code": -32601, "message": "the method does not exist"}}]


class LineServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, answer, tls):
        self.answer = answer
        self.tls = tls
        super().__init__(("127.0.0.1", 0), LineHandler)

    def handle_error(self, request, client_address):
        pass  # a probe that speaks plain to a TLS endpoint is expected


class LineHandler(socketserver.StreamRequestHandler):
    timeout = 10

    def setup(self):
        if self.server.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(CERT, KEY)
            self.request = ctx.wrap_socket(self.request, server_side=True)
        super().setup()

    def handle(self):
        try:
            for raw in self.rfile:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    self.wfile.write(b'{"id":null,"error":{"code":-32700,"message":"Parse error"}}\n')
                    return
                for out in self.server.answer(msg):
                    self.wfile.write((json.dumps(out) + "\n").encode())
        except (OSError, ssl.SSLError):
            pass


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while True:
                data = self.request.recv(4096)
                if not data:
                    return
                self.request.sendall(data)
        except OSError:
            pass


def https_server():
    """Python's own HTTP server behind TLS: a real HTTPS service, which answers a JSON line with
    an HTTP error."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    return httpd


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


servers = {
    "cryptonote_tls": LineServer(cryptonote_pool(False), True),
    "cryptonote_plain_validating": LineServer(cryptonote_pool(True), False),
    "stratum_plain": LineServer(stratum_pool, False),
    "stratum_tls": LineServer(stratum_pool, True),
    "eth_proxy_plain": LineServer(eth_proxy_pool, False),
    "json_rpc_node": LineServer(json_rpc_node, False),
    "echo": socketserver.ThreadingTCPServer(("127.0.0.1", 0), EchoHandler),
    "https": https_server(),
}
ports = {name: s.server_address[1] for name, s in servers.items()}
ports["closed"] = closed_port()
for s in servers.values():
    s.daemon_threads = True
    threading.Thread(target=s.serve_forever, daemon=True).start()
print(json.dumps(ports), flush=True)
sys.stdin.read()
