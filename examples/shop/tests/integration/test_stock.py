import http.server
import subprocess
import threading
import time
import urllib.request

import pytest
from shop.cart import fetch_stock, git_version


@pytest.fixture
def stock_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"42")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/stock"
    server.shutdown()


# FAIL at pre-commit: real HTTP in a test (here to a local server).
def test_stock_is_read_over_http(stock_server):
    with urllib.request.urlopen(stock_server) as response:
        assert response.read() == b"42"


# PASS: the mocked twin.
def test_stock_is_parsed_from_the_response(monkeypatch):
    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return b"7"

    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: Response())
    assert fetch_stock("http://stock.invalid/") == 7


# FAIL at pre-commit: spawns a real process.
def test_git_is_available():
    done = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0


# PASS: the mocked twin.
def test_git_version_is_stripped(monkeypatch):
    class Done:
        stdout = "git version 2.39.5\n"

    monkeypatch.setattr("subprocess.run", lambda *a, **k: Done())
    assert git_version() == "git version 2.39.5"


# Slow but within the integration limit of 5 s.
def test_the_warehouse_sync_settles_within_two_seconds():
    time.sleep(2)  # nosemgrep: test-policy.real-sleep -- waits on a real settle time, on purpose


# Marked slow: 30 s are allowed, 3 s are used.
@pytest.mark.slow
def test_a_full_inventory_rebuild():
    started = time.perf_counter()
    while time.perf_counter() - started < 3:
        pass
