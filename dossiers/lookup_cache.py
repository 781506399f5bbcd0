"""The public lookup's answers, kept in the shared cache and read in the rate limit's round trip.

The lookup is the busiest public page, and most of its requests are citizens asking again
about the same dossier. Each request must count against the client's rate limit in Redis
anyway; the same command (``FailOpenRedisCache.count_and_read``) also reads what was last
read from PostgreSQL for that code and phone, so a repeated lookup costs one round trip to
Redis and none to PostgreSQL. What is kept, and how it stays right:

* per dossier, the row the page and the API show (``selectors.lookup_row``, without the
  phone), under a key that is a keyed hash (the SECRET_KEY's) of its code and the last nine
  digits of the applicant's phone: the cache holds no phone number, a wrong phone finds no
  entry (and reads PostgreSQL, within the rate limit), and a new SECRET_KEY only misses;
* every change of a dossier writes an event (``services.base._record``), which forgets the
  dossier's entry once its transaction commits (``forget_lookups``; no service changes the
  applicant's phone after intake — one that did would forget the old key too); the sweep
  changes only the stored timeliness of open dossiers, which the lookup does not show (it
  works an open dossier's timeliness out at each request);
* procedures' and units' names come with the row: an entry counts only while the catalogue's
  version token (``procedures.catalogue_cache``) is the one it was read under, so a renamed
  procedure shows under its new name at once;
* a miss takes a lease in the same round trip, and only the lease's holder writes the entry,
  only if the lease is still there (memcached's "leases"): a change that commits while a
  reader is between PostgreSQL and the cache forgets the lease, and the reader's older row is
  not kept;
* ``LOOKUP_CACHE_SECONDS`` (300) bounds what a change made outside the portal (psql) leaves
  behind; 0, or no shared cache (local memory), reads PostgreSQL at every lookup, as before;
* a code that names no dossier is never kept: a dossier received later is found at once.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from portal.ratelimit import Hit, client_address, counted, counter_key, hit_address
from procedures.catalogue_cache import VERSION_KEY

from .selectors import lookup_row, phone_digits

# A client may look up LOOKUP_RATE_LIMIT times in this many seconds (page and API each).
LOOKUP_WINDOW_SECONDS = 600
# How long a miss's reader may take to write the entry before another reader may.
LEASE_SECONDS = 5.0
_DATES = ("received_at", "due_at", "paused_at", "promised_at", "resolved_at", "returned_at")


@functools.lru_cache(maxsize=4)
def _mac_key(secret: str) -> bytes:
    # salted_hmac's key for this salt, worked out once (salted_hmac hashes it at every call)
    return hashlib.sha256(b"dossiers.lookup" + secret.encode()).digest()


def _entry(code: str, digits: str) -> str:
    """The cache key of a dossier's answer for whoever has its code and the last nine digits
    of the applicant's phone: ``salted_hmac("dossiers.lookup", f"{code}|{digits}",
    algorithm="sha256")``, its key worked out once per process."""
    key = _mac_key(settings.SECRET_KEY)
    return "lookup:" + hmac.new(key, f"{code}|{digits}".encode(), hashlib.sha256).hexdigest()


def _dumps(row: dict[str, Any]) -> bytes:
    kept = dict(row)
    for key in _DATES:
        kept[key] = kept[key].isoformat() if kept[key] is not None else None
    return json.dumps(kept, separators=(",", ":")).encode()


def _loads(answer: bytes) -> dict[str, Any]:
    row = json.loads(answer)
    for key in _DATES:
        if row[key] is not None:
            row[key] = datetime.fromisoformat(row[key])
    return row


def _enabled() -> bool:
    return hasattr(cache, "count_and_read") and int(settings.LOOKUP_CACHE_SECONDS) > 0


def _of_phone(row: dict[str, Any] | None, digits: str) -> dict[str, Any] | None:
    """``row`` without its phone if ``digits`` (nine: both callers check) are its phone's
    last nine, else None."""
    if row is None or phone_digits(row.pop("applicant_phone")) != digits:
        return None
    return row


def _count_and_read(
    scope: str, request: HttpRequest, code: str, digits: str, limit: int
) -> tuple[Hit, dict[str, Any] | None]:
    """The hit, and the row for this code and phone from the cache if it has it, else from
    PostgreSQL (then kept, if this request holds the lease and the phone is the applicant's)."""
    entry = _entry(code, digits)
    read = cache.count_and_read(  # type: ignore[attr-defined]
        counter_key(scope, client_address(request)),
        LOOKUP_WINDOW_SECONDS,
        limit,
        entry=entry,
        version_key=VERSION_KEY,
        lease=os.urandom(12).hex(),
        lease_seconds=LEASE_SECONDS,
    )
    hit = counted(read.count, read.left, limit=limit)
    if not hit.allowed:
        return hit, None
    if read.answer is not None:
        return hit, _loads(read.answer)
    row = _of_phone(lookup_row(code), digits)
    if row is None:
        return hit, None
    if read.lease is not None:
        cache.fill(  # type: ignore[attr-defined]
            entry,
            lease=read.lease,
            version=read.version,
            answer=_dumps(row),
            timeout=int(settings.LOOKUP_CACHE_SECONDS),
        )
    return hit, row


def look_up(
    *, scope: str, request: HttpRequest, code: str, phone: str
) -> tuple[Hit, dict[str, Any] | None]:
    """Count this client's lookup in ``scope`` (``LOOKUP_RATE_LIMIT`` in
    ``LOOKUP_WINDOW_SECONDS``) and, within the limit, find the dossier with this code and
    phone: the hit, and the row of ``selectors.lookup_row`` without the phone, or None (no
    such dossier, another phone — the two not told apart —, or over the limit)."""
    limit = int(settings.LOOKUP_RATE_LIMIT)
    code = code.strip()
    digits = phone_digits(phone)
    if _enabled() and code and len(digits) == 9:
        return _count_and_read(scope, request, code, digits, limit)
    hit = hit_address(scope, request, limit=limit, window_seconds=LOOKUP_WINDOW_SECONDS)
    if not hit.allowed or len(digits) != 9:  # fewer than nine digits match no one: no query
        return hit, None
    return hit, _of_phone(lookup_row(code), digits)


def forget_lookups(dossiers: list[tuple[str, str]]) -> None:
    """Forget what is kept of these dossiers, each given by its code and the applicant's phone
    (their answers, and any reader's lease)."""
    if dossiers:
        cache.delete_many([_entry(code, phone_digits(phone)) for code, phone in dossiers])
