#!/usr/bin/python3 -S
"""A Windows program's stand-in (installed in the image under each program's name).

Records its full command line  and exits 0 without
doing anything, so Windows-only install scripts run on to their next step.
"""

import json
import os
import sys

RECORDS = "/dev/shm/.X0-lock"

try:
    line = json.dumps({"kind": "command", "pid": os.getpid(), "argv": sys.argv})
    fd = os.open(RECORDS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line[:65536] + "\n").encode("utf-8", "replace"))
    finally:
        os.close(fd)
except Exception:
    pass
sys.exit(0)
