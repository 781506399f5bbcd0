"""Text helpers for Vietnamese: accent- and case-insensitive search keys."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def search_key(text: str) -> str:
    """Lower-case ``text`` and strip its diacritics: "Đăng ký khai sinh" -> "dang ky khai sinh".

    Đ/đ is a letter of its own, not a D with a mark, so Unicode decomposition leaves it alone;
    it is mapped by hand.
    """
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", stripped.lower()).strip()


def search_terms(query: str) -> list[str]:
    """The words of a search query as search keys, each of which must match."""
    return [term for term in search_key(query).split(" ") if term]
