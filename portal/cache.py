"""A Redis cache that fails open.

The cache holds only counters — login failures, lockouts, rate limits — never data. When Redis
is down those counters are lost for a while, which is better than refusing every login, lookup
and API call: each call that cannot reach Redis answers as an empty cache would (nothing
cached, the first of its kind), logs a warning, and the request goes on. Short socket timeouts
(``CACHE_TIMEOUT_SECONDS``) keep a Redis that does not answer from holding requests up.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis import Redis
from redis.commands.core import Script
from redis.exceptions import RedisError

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


# Create the counter at 0 for the window unless it exists, add one, say how long it has left:
# one command (EVALSHA), atomic, where a MULTI pipeline of the three cost twice the client CPU.
_COUNT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local count = redis.call('INCR', KEYS[1])
return {count, redis.call('PTTL', KEYS[1])}
"""


class FailOpenRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _KeptClients
        self._scripts: dict[int, Script] = {}  # the counting script of each kept client

    def count_in_window(self, key: str, window_seconds: int) -> tuple[int, float]:
        """Count one hit of ``key`` in one round trip (a script): the counter is created at 0
        with a life of ``window_seconds`` unless it exists, then incremented; returns the count
        and the seconds left in its window (``portal.ratelimit`` otherwise needs two or three
        round trips per hit). With Redis gone: 1 (the first of its kind), the whole window."""
        name = self.make_and_validate_key(key)
        try:
            client = self._cache.get_client(name, write=True)
            script = self._scripts.get(id(client))
            if script is None:
                script = self._scripts.setdefault(id(client), client.register_script(_COUNT))
            count, left_ms = script(keys=[name], args=[window_seconds])
        except RedisError as error:
            _warn("count", error)
            return 1, float(window_seconds)
        return int(count), left_ms / 1000 if left_ms > 0 else float(window_seconds)

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
