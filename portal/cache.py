"""A Redis cache that fails open.

The cache holds counters — login failures, lockouts, rate limits —, the catalogue's version
token, and copies of what the public lookup may show (``count_and_read``): nothing that is not
also in PostgreSQL. When Redis is down all of it is lost for a while, which is better than
refusing every login, lookup and API call: each call that cannot reach Redis answers as an
empty cache would (nothing cached, the first of its kind), logs a warning, and the request goes
on. Short socket timeouts (``CACHE_TIMEOUT_SECONDS``) keep a Redis that does not answer from
holding requests up.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError

logger = logging.getLogger(__name__)


def default_cache_is_shared() -> bool:
    """Whether the default cache is one all processes share (Redis), not a per-process one
    (local memory, or none): lockouts, rate limits and the outbox's pending ask count in it."""
    from django.conf import settings

    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return not backend.endswith(("LocMemCache", "DummyCache"))


def _warn(operation: str, error: Exception) -> None:
    logger.warning("cache %s failed, going on without it: %s", operation, error)


class _KeptClients(RedisCacheClient):
    """Django's Redis client maker, keeping one client per connection pool: Django makes a
    new ``redis.Redis`` for every cache call, whose set-up (its table of reply handlers)
    cost more than the call itself on the public lookup. A client is safe to share between
    threads; each command borrows a connection from the pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Redis:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


@functools.cache
def _sha(source: str) -> str:
    """The script's SHA-1, by which EVALSHA names it."""
    return hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


# Create the counter at 0 for the window unless it exists, add one, say how long it has left:
# one command (EVALSHA), atomic, where a MULTI pipeline of the three cost twice the client CPU.
_COUNT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local count = redis.call('INCR', KEYS[1])
return {count, redis.call('PTTL', KEYS[1])}
"""


# Count as _COUNT, then, within the limit, read the entry: its answer if it was written under
# the version the version key holds now; else a lease to write it (unless another reader holds
# one), the miss's reader being the only one that may (_FILL). Entry: a hash of v (version),
# a (answer) or l (lease).
_COUNT_AND_READ = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if count > tonumber(ARGV[2]) then return {count, left} end
local version = redis.call('GET', KEYS[3]) or ''
local found = redis.call('HMGET', KEYS[2], 'v', 'a', 'l')
if found[2] and found[1] == version then return {count, left, found[2]} end
if found[3] then return {count, left, false, version} end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'l', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {count, left, false, version, 1}
"""

# Write the answer only if the entry still holds this reader's lease: a writer that deleted the
# entry since (its change committed after the reader's lease) wins, and no stale answer is kept.
_FILL = """
if redis.call('HGET', KEYS[1], 'l') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'a', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


@dataclass(frozen=True)
class Read:
    """What ``count_and_read`` found: the hit's count and the seconds left in its window; the
    entry's answer (None: not kept, or not read past the limit); and, on a miss, the version it
    was read under with the lease to write it (``lease`` None: another reader holds it)."""

    count: int
    left: float
    answer: bytes | None = None
    version: bytes = b""
    lease: str | None = None


def packed(*args: bytes | str | int) -> bytes:
    """A command in Redis's protocol (RESP), as redis-py's packer writes it for short
    arguments (``bytes`` as they are, the rest as UTF-8 text)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class FailOpenRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _KeptClients

    def _run(self, source: str, keys: list[str], args: list[Any]) -> Any:
        """Run a script of this module (EVALSHA) in one round trip, on a connection of the
        pool, loading the script first if Redis does not know it (a restart). redis-py's
        command machinery (its packer, retries and metrics) cost more client CPU than the
        round trip itself on the public lookup; a connection found broken (Redis restarted) is
        dropped and the command sent once more on another, as redis-py would; a timeout is
        not retried (no request waits twice ``CACHE_TIMEOUT_SECONDS``)."""
        client = self._cache.get_client(keys[0], write=True)
        pool = client.connection_pool
        command = packed(b"EVALSHA", _sha(source), len(keys), *keys, *args)
        for attempt in (1, 2):
            connection = pool.get_connection()
            try:
                connection.send_packed_command([command])
                return connection.read_response()
            except NoScriptError:
                if attempt == 2:
                    raise
                client.script_load(source)
            except RedisConnectionError:
                connection.disconnect()
                if attempt == 2:
                    raise
            finally:
                pool.release(connection)
        raise AssertionError("unreachable")  # pragma: no cover

    def count_in_window(self, key: str, window_seconds: int) -> tuple[int, float]:
        """Count one hit of ``key`` in one round trip (a script): the counter is created at 0
        with a life of ``window_seconds`` unless it exists, then incremented; returns the count
        and the seconds left in its window (``portal.ratelimit`` otherwise needs two or three
        round trips per hit). With Redis gone: 1 (the first of its kind), the whole window."""
        try:
            count, left_ms = self._run(_COUNT, [self.make_key(key)], [window_seconds])
        except RedisError as error:
            _warn("count", error)
            return 1, float(window_seconds)
        return int(count), left_ms / 1000 if left_ms > 0 else float(window_seconds)

    def count_and_read(
        self,
        counter: str,
        window_seconds: int,
        limit: int,
        *,
        entry: str,
        version_key: str,
        lease: str,
        lease_seconds: float,
    ) -> Read:
        """Count one hit of ``counter`` as ``count_in_window`` does and, if it is within
        ``limit``, read ``entry`` — both in one round trip. The entry's answer counts only if it
        was written (``fill``) while ``version_key`` held what it holds now; on a miss the
        caller gets ``lease`` to write it, unless another caller's lease (alive for
        ``lease_seconds``) is there. Deleting the entry takes any lease back. With Redis
        gone: the first hit of its window, nothing kept, no lease."""
        # make_key: these keys are the portal's own (hex digests, fixed names), nothing for
        # memcached's key check to find
        names = [self.make_key(k) for k in (counter, entry, version_key)]
        try:
            found = self._run(
                _COUNT_AND_READ, names, [window_seconds, limit, lease, int(lease_seconds * 1000)]
            )
        except RedisError as error:
            _warn("count and read", error)
            return Read(count=1, left=float(window_seconds))
        count, left_ms = int(found[0]), found[1]
        left = left_ms / 1000 if left_ms > 0 else float(window_seconds)
        return Read(
            count=count,
            left=left,
            answer=found[2] if len(found) > 2 else None,
            version=found[3] if len(found) > 3 else b"",
            lease=lease if len(found) > 4 else None,
        )

    def fill(self, entry: str, *, lease: str, version: bytes, answer: bytes, timeout: int) -> bool:
        """Write ``entry``'s answer for ``timeout`` seconds if it still holds ``lease`` (from
        ``count_and_read``); False if it does not (forgotten since, or Redis gone)."""
        try:
            return bool(self._run(_FILL, [self.make_key(entry)], [lease, version, answer, timeout]))
        except RedisError as error:
            _warn("fill", error)
            return False

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError as error:
            _warn("get", error)
            return default

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            _warn("add", error)
            return True  # as if it were the first: no counter ever reaches its limit

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            _warn("set", error)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except RedisError as error:
            _warn("incr", error)
            return delta

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except RedisError as error:
            _warn("delete", error)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except RedisError as error:
            _warn("delete_many", error)

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        try:
            return super().get_many(keys, version)
        except RedisError as error:
            _warn("get_many", error)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except RedisError as error:
            _warn("has_key", error)
            return False
