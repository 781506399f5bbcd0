"""Pages of long lists whose exact length nobody needs.

A district's worklist holds years of finished dossiers: counting a million rows to print
"1.048.576 hồ sơ" and "Trang 1 / 20.972" costs more than the page itself.

* ``CappedPaginator`` counts at most ``cap`` rows (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``,
  cheap where an index holds the condition), says when there are more, and pages through the
  first ``cap``; a narrower filter gives exact figures.
* ``UncountedPaginator`` does not count at all: it reads one row more than a page to know
  whether there is a next one. For searches, whose matches an index finds one page at a time
  but can only count by reading them all.
"""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
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
    counted = True

    def __init__(
        self,
        object_list: QuerySet,
        per_page: int,
        *,
        cap: int | None = None,
        counted: tuple[int, bool] | None = None,
    ) -> None:
        """``counted``: the list's (count, more) as ``capped_count`` gives them, when the
        caller has them already (no count is then run)."""
        super().__init__(object_list, per_page)
        self.cap = cap or COUNT_CAP
        if counted is not None:
            self._capped = counted

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


class UncountedPage(Page):
    def __init__(self, object_list: list, number: int, paginator: UncountedPaginator, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def start_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + 1 if self.object_list else 0

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class UncountedPaginator(Paginator):
    """Pages without a count: ``count`` and ``num_pages`` are None, a page knows whether a next
    one exists. Page numbers past the end give the last rows there are: none."""

    counted = False
    capped = False

    @property
    def count(self) -> None:  # type: ignore[override]
        return None

    @property
    def num_pages(self) -> None:  # type: ignore[override]
        return None

    def validate_number(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def get_page(self, number) -> UncountedPage:
        try:
            number = self.validate_number(number)
        except (PageNotAnInteger, EmptyPage):
            number = 1
        return self.page(number)

    def page(self, number) -> UncountedPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        return UncountedPage(rows[: self.per_page], number, self, len(rows) > self.per_page)
