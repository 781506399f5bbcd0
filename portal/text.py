"""Text helpers for Vietnamese: accent- and case-insensitive search keys."""

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w.]+|(?<!\d)\.|\.(?!\d)")
_SPACES = re.compile(r"\s+")


def search_key(text: str) -> str:
    """Lower-case ``text``, strip its diacritics and punctuation, keep single spaces between
    words: "Đăng ký khai sinh, kết hôn" -> "dang ky khai sinh ket hon". Dots inside numbers stay,
    so procedure codes such as 1.001193 remain one word.

    Đ/đ is a letter of its own, not a D with a mark, so Unicode decomposition leaves it alone;
    it is mapped by hand.
    """
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", stripped.lower())).strip()


def search_document(text: str) -> str:
    """The stored form of a searchable text: its key with a space at both ends, so that a
    whole word is found as `` word ``."""
    return f" {search_key(text)} "


def search_patterns(query: str) -> list[str]:
    """Substrings a search document must contain to match ``query``: each word, whole.

    Whole words, not parts: Vietnamese syllables are short, and "khai tu" must find "khai tử"
    but not "thủ tục … khai sinh".
    """
    return [f" {word} " for word in search_key(query).split()]
