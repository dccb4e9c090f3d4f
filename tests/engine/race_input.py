"""One of eight racing processes: waits for a start time, then answers a wait."""

from __future__ import annotations

import json
import sys
import time

from kitaru import KitaruClient
from kitaru.errors import KitaruStateError

if __name__ == "__main__":
    exec_id, start_at, value, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    client = KitaruClient()
    client.runtime.backend.get_execution(exec_id)  # open the journal before the start line
    while time.time() < start_at:
        time.sleep(0.001)
    try:
        client.executions.input(exec_id, wait="extra", value=value)
        result = {"value": value, "won": True}
    except KitaruStateError as exc:
        result = {"value": value, "won": False, "error": str(exc)}
    with open(out, "w") as f:
        json.dump(result, f)
