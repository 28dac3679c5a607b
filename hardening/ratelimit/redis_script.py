"""One Lua script that decides a request against every policy in one Redis round trip.

Algorithm: a sliding-window counter (as in ``limits``' ``acquire_sliding_window.lua``)
whose window is anchored at the key's first hit rather than at the epoch.  The estimate
for the last ``w`` seconds is ``previous * (1 - elapsed / w) + current``, so there is no
2x burst at a window edge, and the first window of a key is exact.  The request is
admitted only if every window admits it; then (and only then) every window counts it, so
a request refused by one policy never uses up another policy's quota.  Refusals count
as violations of the identity (user or IP); at the threshold the identity is banned for
the next tier.  Bans are checked first, one ``PTTL`` each.

Leases (:mod:`hardening.ratelimit.lease`): a set may ask for ``want`` extra units; each
window grants ``lease.grant(limit - estimate - 1, active, want)`` (active: the workers in
the window's ``lw`` sorted set seen in the last ``lease_ms``), the set gets the smallest
grant, and every window counts the request plus that many units.  Units given back
(``back`` with the window start ``back_start`` they were counted in) leave the current
count, or the previous one when the window has rolled since; they apply even when the
request is refused.  Expired leases of other keys are given back in the same call
(``nret`` windows, each with ``back`` units counted at ``back_start``), so a key that went
cold on a worker does not keep its units until the window ends.

Revoked access tokens (``hardening.jwt.auth``) are checked first, one ``EXISTS`` each, so
the revocation lookup costs no round trip of its own.  Two sets of policies are passed then:
set A as the request's token authenticates it, set B as if the token were refused (the
request as an anonymous or session user); only the set that applies is decided.

KEYS: revoked_1..nr, returned_1..nret, then per set: ban_1..ban_nb, violations_1..nb, level_1..nb,
      window_1..nw, lw_1..nw (the lease holders of each window)
ARGV: now_ms ('' = Redis TIME), token, share, lease_ms, max_batch, threshold, ban_window_s,
      memory_s, ntiers, tier_s..., nr, nret, then per returned window: window_ms, back,
      back_start; then per set (set B only when nr > 0): nb, nw, want, then per
      window: limit, window_ms, identity index (0 = no bans), back, back_start
Reply: {status, identity index, ban_ms, revoked, extra, then per window: ok, wait_ms,
        remaining, reset_ms, start}
status: 0 admitted, 1 limited, 2 limited and newly banned, 3 already banned;
revoked: 1 when a revocation key exists (set B was decided), else 0;
extra: the units reserved beyond this request (0 unless admitted with want > 0).

:func:`set_arguments` builds the keys and ARGV of one set, :func:`read_reply` reads a reply.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hardening.ratelimit.decision import Check, Decision, Revocation, WindowState, summarise
from hardening.ratelimit.keys import ban_key, holders_key, level_key, vio_key, window_key

if TYPE_CHECKING:
    from hardening.ratelimit.conf import Config

SCRIPT = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- a window that began at start, rolled on to the one now is in
local function roll(start, prev, cur, w)
  if now >= start + w then
    local n = math.floor((now - start) / w)
    if n == 1 then prev = cur else prev = 0 end
    return start + n * w, prev, 0
  end
  return start, prev, cur
end
-- back units counted at back_start, taken off the count they are in
local function give_back(start, prev, cur, w, back, back_start)
  if back_start == start then cur = math.max(0, cur - back)
  elseif back_start == start - w then prev = math.max(0, prev - back) end
  return prev, cur
end
local token = ARGV[2]
local share = tonumber(ARGV[3])
local lease_ms = tonumber(ARGV[4])
local max_batch = tonumber(ARGV[5])
local threshold = tonumber(ARGV[6])
local ban_window = tonumber(ARGV[7])
local memory = tonumber(ARGV[8])
local ntiers = tonumber(ARGV[9])
local nr = tonumber(ARGV[10 + ntiers])
local nret = tonumber(ARGV[11 + ntiers])
for x = 1, nret do
  local r = 11 + ntiers + (x - 1) * 3
  local w = tonumber(ARGV[r + 1])
  local back = tonumber(ARGV[r + 2])
  local back_start = tonumber(ARGV[r + 3])
  local key = KEYS[nr + x]
  local s = redis.call('HMGET', key, 's', 'p', 'c')
  local start = tonumber(s[1])
  if start then
    local prev, cur = tonumber(s[2]) or 0, tonumber(s[3]) or 0
    start, prev, cur = roll(start, prev, cur, w)
    prev, cur = give_back(start, prev, cur, w, back, back_start)
    redis.call('HSET', key, 's', start, 'p', prev, 'c', cur)
    redis.call('PEXPIRE', key, 2 * w + 1000)
  end
end
local a0 = 12 + ntiers + 3 * nret
local k0 = nr + nret
local revoked = 0
for r = 1, nr do
  if redis.call('EXISTS', KEYS[r]) == 1 then revoked = 1; break end
end
if revoked == 1 then
  local nwa = tonumber(ARGV[a0 + 1])
  k0 = nr + 3 * tonumber(ARGV[a0]) + 2 * nwa
  a0 = a0 + 3 + 5 * nwa
end
local nb = tonumber(ARGV[a0])
local nw = tonumber(ARGV[a0 + 1])
local want = tonumber(ARGV[a0 + 2])
local base = a0 + 2
for i = 1, nb do
  local ttl = redis.call('PTTL', KEYS[k0 + i])
  if ttl > 0 then return {3, i, ttl, revoked, 0} end
  if ttl == -1 then return {3, i, 3600000, revoked, 0} end
end
local wk = k0 + 3 * nb
local out = {0, 0, 0, revoked, 0}
local states = {}
local denied = false
local extra = want
for j = 1, nw do
  local a = base + (j - 1) * 5
  local limit = tonumber(ARGV[a + 1])
  local w = tonumber(ARGV[a + 2])
  local back = tonumber(ARGV[a + 4])
  local back_start = tonumber(ARGV[a + 5])
  local s = redis.call('HMGET', KEYS[wk + j], 's', 'p', 'c')
  local start = tonumber(s[1])
  local prev = tonumber(s[2]) or 0
  local cur = tonumber(s[3]) or 0
  if not start then
    start = now; prev = 0; cur = 0
  else
    start, prev, cur = roll(start, prev, cur, w)
  end
  if back > 0 then prev, cur = give_back(start, prev, cur, w, back, back_start) end
  local elapsed = now - start
  if elapsed < 0 then elapsed = 0 end
  local est = prev * (1 - elapsed / w) + cur
  local ok = 1
  local wait = 0
  if est + 1 > limit then
    ok = 0
    denied = true
    local t
    if limit < 1 then
      t = now + w
    elseif cur + 1 <= limit then
      t = start + w * (1 - (limit - 1 - cur) / prev)
    else
      t = start + w + w * (1 - (limit - 1) / cur)
    end
    wait = math.max(1, math.ceil(t - now))
  end
  local remaining = math.floor(limit - est - ok)
  if remaining < 0 then remaining = 0 end
  if extra > 0 and ok == 1 then
    local lw = KEYS[wk + nw + j]
    redis.call('ZREMRANGEBYSCORE', lw, '-inf', now - lease_ms)
    redis.call('ZADD', lw, now, token)
    redis.call('PEXPIRE', lw, 2 * lease_ms)
    local active = redis.call('ZCARD', lw)
    local g = math.floor(remaining / (share * math.max(1, active)))
    extra = math.max(0, math.min(extra, max_batch, g))
  end
  states[j] = {start, prev, cur, back > 0}
  local k = #out
  out[k + 1] = ok; out[k + 2] = wait; out[k + 3] = remaining
  out[k + 4] = math.max(0, math.ceil(start + w - now)); out[k + 5] = start
end
if not denied then
  out[5] = extra
  for j = 1, nw do
    local a = base + (j - 1) * 5
    local w = tonumber(ARGV[a + 2])
    local st = states[j]
    redis.call('HSET', KEYS[wk + j], 's', st[1], 'p', st[2], 'c', st[3] + 1 + extra)
    redis.call('PEXPIRE', KEYS[wk + j], 2 * w + 1000)
    out[5 + (j - 1) * 5 + 3] = math.max(0, out[5 + (j - 1) * 5 + 3] - extra)
  end
  return out
end
out[1] = 1
for j = 1, nw do
  local k = 5 + (j - 1) * 5
  if out[k + 1] == 1 then out[k + 3] = out[k + 3] + 1 end
  local st = states[j]
  if st[4] then
    local w = tonumber(ARGV[base + (j - 1) * 5 + 2])
    redis.call('HSET', KEYS[wk + j], 's', st[1], 'p', st[2], 'c', st[3])
    redis.call('PEXPIRE', KEYS[wk + j], 2 * w + 1000)
  end
end
if threshold < 1 or ntiers < 1 then return out end
local violated = {}
for j = 1, nw do
  local i = tonumber(ARGV[base + (j - 1) * 5 + 3])
  if i > 0 and out[5 + (j - 1) * 5 + 1] == 0 then violated[i] = true end
end
for i = 1, nb do
  if violated[i] then
    local v = redis.call('INCR', KEYS[k0 + nb + i])
    if v == 1 then redis.call('EXPIRE', KEYS[k0 + nb + i], ban_window) end
    if v >= threshold and out[1] ~= 2 then
      local level = redis.call('INCR', KEYS[k0 + 2 * nb + i])
      redis.call('EXPIRE', KEYS[k0 + 2 * nb + i], memory)
      local tier = tonumber(ARGV[9 + math.min(level, ntiers)])
      redis.call('SET', KEYS[k0 + i], level, 'EX', tier)
      redis.call('DEL', KEYS[k0 + nb + i])
      out[1] = 2; out[2] = i; out[3] = tier * 1000
    end
  end
end
return out
"""

SHA = hashlib.sha1(SCRIPT.encode(), usedforsecurity=False).hexdigest()


def set_arguments(
    checks: Sequence[Check],
    identities: Sequence[str],
    cfg: Config,
    want: int = 0,
    back: Sequence[int] = (),
    back_starts: Sequence[int] = (),
) -> tuple[list[str], list[Any]]:
    """The key names and ARGV of one set of checks (the per-set part above)."""
    if cfg.bans is None:
        identities = ()
    names = [ban_key(i) for i in identities]
    names += [vio_key(i) for i in identities]
    names += [level_key(i) for i in identities]
    names += [window_key(c) for c in checks]
    names += [holders_key(c) for c in checks]
    args: list[Any] = [len(identities), len(checks), want]
    for n, c in enumerate(checks):
        identity = c.identity
        ident = 0
        if identity and c.policy.ban and identity in identities:
            ident = identities.index(identity) + 1
        args += [c.rate.limit, c.rate.seconds * 1000, ident]
        args += [back[n], back_starts[n]] if back else [0, 0]
    return names, args


def read_reply(
    reply: Sequence[Any],
    checks: Sequence[Check],
    identities: Sequence[str],
    revocation: Revocation | None,
) -> Decision:
    """The :class:`~hardening.ratelimit.decision.Decision` of one reply of the script."""
    status, ident, ban_ms = int(reply[0]), int(reply[1]), int(reply[2])
    decision = Decision()
    if revocation is not None:
        decision.revoked = int(reply[3]) == 1
        if decision.revoked:
            checks, identities = revocation.checks, revocation.identities
    if status == 3:
        decision.allowed = False
        decision.banned = identities[ident - 1]
        decision.retry_after = max(1, math.ceil(ban_ms / 1000))
        return decision
    windows = decision.windows
    n = 5
    for check in checks:
        ok = int(reply[n]) != 0
        wait = 0 if ok else math.ceil(int(reply[n + 1]) / 1000)
        reset = math.ceil(int(reply[n + 3]) / 1000)
        windows.append(WindowState(check, ok, wait, int(reply[n + 2]), reset))
        n += 5
    summarise(decision)
    if status == 2:
        decision.new_ban = (identities[ident - 1], ban_ms // 1000)
        decision.retry_after = max(decision.retry_after, ban_ms // 1000)
    return decision
