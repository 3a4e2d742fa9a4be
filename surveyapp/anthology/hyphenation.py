"""Dutch hyphenation (pyphen, nl_NL), cached per word because anthologies repeat words."""

from __future__ import annotations

import functools

import pyphen

# Two letters before and three after a break keep Dutch line ends readable ("ont-breekt").
_DICTIONARY = pyphen.Pyphen(lang="nl_NL", left=2, right=3)


@functools.lru_cache(maxsize=65536)
def _pairs(word: str) -> tuple[tuple[str, str], ...]:
    return tuple(_DICTIONARY.iterate(word))


def dutch_hyphenator(word: str) -> tuple[tuple[str, str], ...]:
    """Return the ways to break word as (head, tail) pairs, longest head first.

    This is the callable ReportLab accepts as a paragraph style's hyphenationLang.
    """
    return _pairs(word)


def hyphenate(word: str, hyphen: str = "-") -> str:
    """Return word with every allowed break point marked by hyphen (for display and tests)."""
    return _DICTIONARY.inserted(word, hyphen)
