#!/usr/bin/env python3
"""Poll /minio/health/live on every node until a stop file appears (bounded), and report how
many nodes were down at the same time. Usage: watch_nodes.py OUT STOPFILE CA MAX_S HOST:PORT..."""

import http.client
import json
import os
import ssl
import sys
import time

out, stop, ca, max_s, nodes = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5:]
ctx = ssl.create_default_context(cafile=ca)


def live(node):
    host, port = node.rsplit(":", 1)
    try:
        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=0.5)
        conn.request("GET", "/minio/health/live")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except (OSError, http.client.HTTPException):
        return False


started = time.time()
max_down, polls, down_events, previous, timeline = 0, 0, {n: 0 for n in nodes}, {}, []
while time.time() - started < max_s and not os.path.exists(stop):
    state = {n: live(n) for n in nodes}
    polls += 1
    down = sorted(n for n, ok in state.items() if not ok)
    max_down = max(max_down, len(down))
    for n in nodes:
        if previous.get(n, True) and not state[n]:
            down_events[n] += 1
            timeline.append({"t": round(time.time() - started, 2), "down": n})
        if previous.get(n) is False and state[n]:
            timeline.append({"t": round(time.time() - started, 2), "up": n})
    previous = state
    time.sleep(0.1)
with open(out, "w") as fh:
    json.dump({"max_down": max_down, "polls": polls, "down_events": down_events, "timeline": timeline,
               "seconds": round(time.time() - started, 1)}, fh, indent=1)
