"""molecule/shared/watch_members.py: what counts as a member being down.

A restarting member refuses the connection, closes it, or answers "starting up"; one that only
answers late (a starved machine) is no evidence either way and must not be counted as down, or the
restart proof reports restarts that never happened.
"""

import importlib.util
import os
import socket
import threading

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC = importlib.util.spec_from_file_location("watch_members", os.path.join(ROOT, "molecule", "shared", "watch_members.py"))
watch_members = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(watch_members)


def serve_once(reply):
    """A one-shot server on 127.0.0.1 that reads the startup packet and sends `reply` (None: stays silent)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)

    def run():
        conn, _ = sock.accept()
        conn.recv(1024)
        if reply is not None:
            conn.sendall(reply)
            conn.close()
        else:
            threading.Event().wait(3)
            conn.close()
        sock.close()

    threading.Thread(target=run, daemon=True).start()
    return sock.getsockname()[1]


def accepts(port, timeout=0.5):
    original = watch_members.PG_PORT
    watch_members.PG_PORT = port
    try:
        return watch_members.postgresql_accepts("127.0.0.1", timeout)
    finally:
        watch_members.PG_PORT = original


def error_response(code):
    body = b"SFATAL\0C" + code.encode() + b"\0Mthe database system is starting up\0\0"
    return b"E" + (4 + len(body)).to_bytes(4, "big") + body


def test_an_authentication_request_means_it_serves():
    assert accepts(serve_once(b"R" + (8).to_bytes(4, "big") + (5).to_bytes(4, "big")))[0] is True


def test_starting_up_means_down():
    serves, detail = accepts(serve_once(error_response("57P03")))
    assert serves is False and "57P03" in detail


def test_a_refused_connection_means_down(closed_port):
    assert accepts(closed_port)[0] is False


def test_no_answer_in_time_is_neither_up_nor_down():
    serves, detail = accepts(serve_once(None), timeout=0.3)
    assert serves is None and "no answer within 0.3 s" in detail
