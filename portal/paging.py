"""Pages of long lists whose exact length nobody needs.

A district's worklist holds years of finished dossiers: counting a million rows to print
"1.048.576 hồ sơ" and "Trang 1 / 20.972" costs more than the page itself. ``CappedPaginator``
counts at most ``cap`` rows (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``), says when there are
more, and lets the user page through the first ``cap``; a narrower filter gives exact figures.
"""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator
from django.db.models import QuerySet

COUNT_CAP = 10_000


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """How many rows ``queryset`` has, counting no further than ``cap`` (default
    ``COUNT_CAP``): (count, more)."""
    cap = cap or COUNT_CAP
    # Only the keys in the subquery: the rows' columns and annotations would be read for nothing.
    found = queryset.order_by().values("pk")[: cap + 1].count()
    return min(found, cap), found > cap


class CappedPaginator(Paginator):
    def __init__(self, object_list: QuerySet, per_page: int, *, cap: int | None = None) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap or COUNT_CAP

    @cached_property
    def _capped(self) -> tuple[int, bool]:
        return capped_count(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return self._capped[0]

    @property
    def capped(self) -> bool:
        """True when the list is longer than the pages show."""
        return self._capped[1]
