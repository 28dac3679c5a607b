"""A module whose import takes 0.5 s (tests/timeout/test_alarm.py imports it past the
deadline: the SIGALRM timer must not interrupt the import system)."""

from __future__ import annotations

import time

time.sleep(0.5)
DONE = True
