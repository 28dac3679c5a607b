"""The rate-limit script's window and lease logic in Python: a stand-in Redis client whose
``evalsha`` runs what ``hardening/ratelimit/redis_script.py`` runs (one set, no bans, no
revocation), so the real :class:`~hardening.ratelimit.limiter.Limiter` and its
:class:`~hardening.ratelimit.lease.Leases` run against it in the property test.
``tests/ratelimit/test_leases.py`` holds its replies equal to the Lua script's on Redis."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hardening.ratelimit.lease import grant


@dataclass
class Window:
    start: int
    prev: float = 0
    cur: float = 0


@dataclass
class ModelRedis:
    windows: dict[str, Window] = field(default_factory=dict)
    holders: dict[str, dict[str, int]] = field(default_factory=dict)
    #: every (key, start) a window has had, and the grants made: (key, start, extra)
    starts: set[tuple[str, int]] = field(default_factory=set)
    calls: int = 0

    def evalsha(self, sha: str, numkeys: int, *rest: Any) -> list[int]:
        self.calls += 1
        keys, argv = [str(k) for k in rest[:numkeys]], list(rest[numkeys:])
        now = int(argv[0])
        token, share, lease_ms, max_batch = str(argv[1]), int(argv[2]), int(argv[3]), argv[4]
        ntiers = int(argv[8])
        assert int(argv[9 + ntiers]) == 0, "the model decides one set (no revocation)"
        nret = int(argv[10 + ntiers])
        for x in range(nret):
            r = 11 + ntiers + 3 * x
            w, back, back_start = int(argv[r]), int(argv[r + 1]), int(argv[r + 2])
            old = self.windows.get(keys[x])
            if old is None:
                continue
            win = self._rolled(old, now, w)
            self._give_back(win, w, back, back_start)
            self._store(keys[x], win)
        keys = keys[nret:]
        a0 = 11 + ntiers + 3 * nret  # 0-based: ARGV[12 + ntiers + 3 * nret]
        nb, nw, want = int(argv[a0]), int(argv[a0 + 1]), int(argv[a0 + 2])
        assert nb == 0, "the model has no bans"
        assert share == 2 and int(max_batch) > 0
        out: list[int] = [0, 0, 0, 0, 0]
        states: list[tuple[str, Window, int, bool]] = []
        denied = False
        extra = want
        for j in range(nw):
            a = a0 + 3 + 5 * j
            limit, w = int(argv[a]), int(argv[a + 1])
            back, back_start = int(argv[a + 3]), int(argv[a + 4])
            key, holders = keys[j], keys[nw + j]
            old = self.windows.get(key)
            # (the model never expires a key: see the module's tests)
            win = Window(now) if old is None else self._rolled(old, now, w)
            if back > 0:
                self._give_back(win, w, back, back_start)
            elapsed = max(0, now - win.start)
            est = win.prev * (1 - elapsed / w) + win.cur
            ok = 1
            wait = 0
            if est + 1 > limit:
                ok, denied = 0, True
                if limit < 1:
                    t = now + w
                elif win.cur + 1 <= limit:
                    t = win.start + w * (1 - (limit - 1 - win.cur) / win.prev)
                else:
                    t = win.start + w + w * (1 - (limit - 1) / win.cur)
                wait = max(1, math.ceil(t - now))
            remaining = max(0, math.floor(limit - est - ok))
            if extra > 0 and ok == 1:
                seen = self.holders.setdefault(holders, {})
                for t in [t for t, at in seen.items() if at <= now - lease_ms]:
                    del seen[t]
                seen[token] = now
                extra = min(extra, grant(remaining, len(seen), extra))
            states.append((key, win, w, back > 0))
            out += [ok, wait, remaining, max(0, math.ceil(win.start + w - now)), win.start]
        if not denied:
            out[4] = extra
            for j, (key, win, _w, _back) in enumerate(states):
                win.cur += 1 + extra
                self._store(key, win)
                out[5 + 5 * j + 2] = max(0, out[5 + 5 * j + 2] - extra)
            return out
        out[0] = 1
        for j, (key, win, _w, back_given) in enumerate(states):
            if out[5 + 5 * j] == 1:
                out[5 + 5 * j + 2] += 1
            if back_given:
                self._store(key, win)
        return out

    @staticmethod
    def _rolled(old: Window, now: int, w: int) -> Window:
        win = Window(old.start, old.prev, old.cur)
        if now >= win.start + w:
            n = (now - win.start) // w
            win.prev = win.cur if n == 1 else 0
            win.cur = 0
            win.start += n * w
        return win

    @staticmethod
    def _give_back(win: Window, w: int, back: int, back_start: int) -> None:
        if back_start == win.start:
            win.cur = max(0, win.cur - back)
        elif back_start == win.start - w:
            win.prev = max(0, win.prev - back)

    def _store(self, key: str, win: Window) -> None:
        self.windows[key] = win
        self.starts.add((key, win.start))
