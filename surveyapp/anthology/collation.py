"""Dutch alphabetical order: case and accents ignored, ’t and ’s skipped, numbers in order."""

from __future__ import annotations

import re
import unicodedata

# An elided article ("’t Is", "’s avonds") does not decide where a quote is filed.
_ELIDED_ARTICLE = re.compile(r"^['‘’`´]\s*[ts](?:\s+|-)", re.IGNORECASE)
_TOKEN = re.compile(r"\d+|[^\W\d_]+")

SortKey = tuple[tuple[tuple[int, int, str], ...], str, str]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def dutch_sort_key(text: str) -> SortKey:
    """Return a key that sorts text the way a Dutch index does.

    Words compare one by one, ignoring case, accents and punctuation; a run of digits
    compares as a number and before letters; a leading ’t or ’s is skipped. Ties fall back
    to the accented, then the original text, so the order is total and repeatable.
    """
    stripped = _ELIDED_ARTICLE.sub("", text.lstrip())
    folded = _fold(stripped)
    primary = tuple(
        (0, int(token), "") if token.isdigit() else (1, 0, token)
        for token in _TOKEN.findall(folded)
    )
    return primary, stripped.casefold(), text


def dutch_sorted(texts: tuple[str, ...] | list[str]) -> list[str]:
    """Return texts in Dutch alphabetical order."""
    return sorted(texts, key=dutch_sort_key)
