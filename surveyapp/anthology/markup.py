"""The coordinator's light markup: paragraphs, *emphasis*, **strong** and "- " lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Emphasis = Literal["", "em", "strong"]

_INLINE = re.compile(r"\*\*(?P<strong>[^*]+?)\*\*|\*(?P<em>[^*\s](?:[^*]*?[^*\s])?)\*")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Run:
    """A stretch of text with one emphasis."""

    text: str
    emphasis: Emphasis = ""


@dataclass(frozen=True)
class Block:
    """A paragraph (one item) or a list (one item per entry); each item is a tuple of runs."""

    kind: Literal["paragraph", "list"]
    items: tuple[tuple[Run, ...], ...]


def parse_runs(text: str) -> tuple[Run, ...]:
    """Split one line of text into plain, emphasised and strong runs."""
    runs: list[Run] = []
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            runs.append(Run(text[position : match.start()]))
        if match.group("strong") is not None:
            runs.append(Run(match.group("strong"), "strong"))
        else:
            runs.append(Run(match.group("em"), "em"))
        position = match.end()
    if position < len(text):
        runs.append(Run(text[position:]))
    return tuple(runs)


def parse_blocks(text: str) -> tuple[Block, ...]:
    """Split text into paragraphs and lists; lines inside a paragraph join with a space."""
    blocks: list[Block] = []
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    for chunk in _BLANK_LINE.split(normalised):
        blocks.extend(_chunk_blocks([line.strip() for line in chunk.split("\n")]))
    return tuple(blocks)


def _chunk_blocks(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []
    entries: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("- ") or not line:
            if paragraph:
                blocks.append(Block("paragraph", (parse_runs(" ".join(paragraph)),)))
                paragraph = []
            if line:
                entries.append(line[2:].strip())
                continue
        elif entries and not paragraph:
            # A line under a list entry that does not start a new one continues it.
            entries[-1] = f"{entries[-1]} {line}"
            continue
        else:
            paragraph.append(line)
            continue
        if entries:
            blocks.append(Block("list", tuple(parse_runs(entry) for entry in entries)))
            entries = []
    return blocks
