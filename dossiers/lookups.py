"""``words``: every word of a search key at the start of a word of a stored search key.

    Dossier.objects.filter(applicant_search__words="nguyen van a")

On PostgreSQL a full-text match on the ``simple`` configuration (no stemming, no stop words),
which a GIN index on ``to_tsvector('simple', applicant_search)`` serves: three words are three
short posting lists, where a trigram search of the same text intersects a dozen long ones
(Vietnamese names share their syllables). Words in any order; the last one may be unfinished
("nguyen van a" finds "nguyen van an"). Elsewhere (SQLite in development) a substring match.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Lookup


@models.CharField.register_lookup
class Words(Lookup):
    lookup_name = "words"

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [value])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        words = str(self.rhs).split()
        return f"{lhs} LIKE %s", [*lhs_params, "%" + " ".join(words) + "%"]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        words = [w for w in str(self.rhs).split() if w.replace(".", "").isalnum()]
        terms = [f"'{w}'" for w in words[:-1]] + [f"'{words[-1]}':*"] if words else ["''"]
        return (
            f"to_tsvector('simple', {lhs}) @@ to_tsquery('simple', %s)",
            [*lhs_params, " & ".join(terms)],
        )


@models.CharField.register_lookup
class EndsWithCode(Lookup):
    """``code__ends="-241127-0026"``: codes ending with the text (a day and number read off a
    receipt). On PostgreSQL the beginning of the reversed code, which a B-tree on
    ``reverse(code)`` with the pattern operator class serves (migration 0014); a trigram
    search of those digits read thousands of index pages. The text holds digits and dashes
    only (``filters._search`` checks), so it needs no escaping in a LIKE pattern."""

    lookup_name = "ends"

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [value])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} LIKE %s", [*lhs_params, "%" + str(self.rhs)]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"reverse({lhs}::text) LIKE %s", [*lhs_params, str(self.rhs)[::-1] + "%"]
