"""`surveyapp anthology ...`: build the anthology from a JSON file (plain click, no Flask).

The app registers anthology_group on its CLI and adds `build STUDY`, which can reuse
write_anthology and ProgressBar.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import click

from surveyapp.anthology.html import render_html
from surveyapp.anthology.loading import load_anthology
from surveyapp.anthology.model import Anthology
from surveyapp.anthology.pdf import Progress, render_pdf
from surveyapp.anthology.validation import AnthologyError

INVALID_INPUT = 2


@click.group("anthology")
def anthology_group() -> None:
    """Build the anthology (bloemlezing) as PDF and as an accessible HTML page."""


@anthology_group.command("render")
@click.argument("source", metavar="INPUT.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "pdf_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the PDF.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the HTML version here.",
)
@click.pass_context
def render_command(
    context: click.Context, source: Path, pdf_path: Path, html_path: Path | None
) -> None:
    """Render INPUT.json (see docs/anthology-format.md) to a PDF and optionally HTML."""
    for target in (pdf_path, html_path):
        if target is not None and not target.parent.is_dir():
            click.echo(f"Error: {target}: folder {target.parent} does not exist", err=True)
            context.exit(INVALID_INPUT)
    try:
        anthology = load_anthology(source)
        with ProgressBar("PDF") as bar:
            write_anthology(anthology, pdf_path, html_path, progress=bar)
    except AnthologyError as error:
        click.echo(f"Error: {source}: {error}", err=True)
        context.exit(INVALID_INPUT)
    except OSError as error:
        click.echo(f"Error: cannot write {pdf_path}: {error.strerror or error}", err=True)
        context.exit(1)
    click.echo(f"Wrote {pdf_path}" + (f" and {html_path}" if html_path else ""))


def write_anthology(
    anthology: Anthology,
    pdf_path: Path,
    html_path: Path | None = None,
    progress: Progress | None = None,
) -> None:
    """Render both files in memory, then put each in place whole, or write nothing."""
    pdf = render_pdf(anthology, progress=progress)
    html = render_html(anthology) if html_path is not None else None
    staged: list[tuple[str, Path]] = []
    try:
        staged.append((_stage(pdf_path, pdf), pdf_path))
        if html_path is not None and html is not None:
            staged.append((_stage(html_path, html.encode("utf-8")), html_path))
    except BaseException:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise
    for temporary, target in staged:
        os.replace(temporary, target)


def _stage(target: Path, data: bytes) -> str:
    """Write data to a hidden file beside target and return its name."""
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


class ProgressBar:
    """A click progress bar fed by render_pdf's progress(done, total) callback."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None  # click's bar class is private
        self.done = 0

    def __enter__(self) -> ProgressBar:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.length = max(self.bar.length, total)
        self.bar.update(done - self.done)
        self.done = done

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, error, traceback)
