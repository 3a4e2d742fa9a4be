"""The PDF anthology: A4, two columns like the source page, built with ReportLab."""

from __future__ import annotations

import calendar
import hashlib
import io
import time
import unicodedata
from collections.abc import Callable, Iterator
from xml.sax.saxutils import escape

from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader, TimeStamp
from reportlab.pdfbase.pdfdoc import PDFDocument
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    FrameBreak,
    Image,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from surveyapp.anthology import typefaces
from surveyapp.anthology.charts import bar_chart, pdf_drawing
from surveyapp.anthology.hyphenation import dutch_hyphenator
from surveyapp.anthology.markup import Block, Run
from surveyapp.anthology.markup import parse_blocks as parse_markup
from surveyapp.anthology.model import Anthology, Chapter, Methods, StatementResult
from surveyapp.anthology.validation import validate
from surveyapp.anthology.wording import PDF_LANGUAGE, Wording

Progress = Callable[[int, int], None]

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 1.5 * cm
MARGIN_TOP = 1.8 * cm
MARGIN_BOTTOM = 2.2 * cm
GUTTER = 22.0
COLUMN_WIDTH = (PAGE_WIDTH - 2 * MARGIN_X - GUTTER) / 2
BODY_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
CHAPTER_HEAD_HEIGHT = 1.8 * cm
FOOTER_BASELINE = 1.2 * cm

TEXT = HexColor("#1a1a1a")
MUTED = HexColor("#4d4d4d")
RULE = HexColor("#8c8c8c")

# Before 2000 no surveyapp anthology existed; a fixed date keeps builds byte-identical.
_EPOCH = time.struct_time((2000, 1, 1, 0, 0, 0, 5, 1, 0))


def render_pdf(anthology: Anthology, progress: Progress | None = None) -> bytes:
    """Return the anthology as PDF bytes; call progress(done, total) while building.

    total may grow once if the contents need an extra pass; the last call has done == total.
    """
    validate(anthology)
    typefaces.register()
    wording = Wording(anthology.language)
    styles = _Styles()
    buffer = io.BytesIO()
    document = _AnthologyDocument(buffer, anthology, progress)
    story = _Story(anthology, wording, styles).build()
    document.multiBuild(story)
    document.finish_progress()
    return buffer.getvalue()


class _Styles:
    """Every paragraph style, each naming the embedded font explicitly."""

    def __init__(self) -> None:
        base = {"fontName": typefaces.REGULAR, "textColor": TEXT, "alignment": TA_LEFT}
        self.quote = ParagraphStyle(
            "quote",
            **base,
            fontSize=9,
            leading=11.6,
            spaceBefore=5,
            hyphenationLang=dutch_hyphenator,
            hyphenationMinWordLength=6,
        )
        self.group_start = ParagraphStyle("group-start", parent=self.quote, spaceBefore=15)
        self.section = ParagraphStyle(
            "section",
            **base | {"fontName": typefaces.BOLD},
            fontSize=10.5,
            leading=13,
            spaceBefore=18,
            spaceAfter=2,
            keepWithNext=1,
        )
        self.results_section = ParagraphStyle(
            "results-section", parent=self.section, keepWithNext=0
        )
        self.chapter = ParagraphStyle(
            "chapter", **base | {"fontName": typefaces.BOLD}, fontSize=17, leading=21
        )
        self.part = ParagraphStyle("part", parent=self.chapter, spaceAfter=14)
        self.subheading = ParagraphStyle(
            "subheading", parent=self.section, fontSize=10, spaceBefore=14, spaceAfter=4
        )
        self.body = ParagraphStyle(
            "body",
            **base,
            fontSize=10,
            leading=14,
            spaceAfter=7,
            hyphenationLang=dutch_hyphenator,
            hyphenationMinWordLength=6,
        )
        self.bullet = ParagraphStyle(
            "bullet",
            parent=self.body,
            leftIndent=14,
            bulletIndent=3,
            bulletFontName=typefaces.REGULAR,
            spaceAfter=3,
        )
        self.statement = ParagraphStyle(
            "statement",
            parent=self.quote,
            fontName=typefaces.BOLD,
            spaceBefore=12,
            spaceAfter=4,
        )
        self.figures = ParagraphStyle(
            "figures", **base | {"textColor": MUTED}, fontSize=7.5, leading=9.5, spaceBefore=3
        )
        self.cell = ParagraphStyle("cell", **base, fontSize=8.5, leading=10.5)
        self.cover_title = ParagraphStyle(
            "cover-title", **base | {"fontName": typefaces.BOLD}, fontSize=26, leading=32
        )
        self.cover_subtitle = ParagraphStyle(
            "cover-subtitle", **base, fontSize=15, leading=20, spaceBefore=12
        )
        self.cover_line = ParagraphStyle(
            "cover-line", **base | {"textColor": MUTED}, fontSize=11, leading=15, spaceBefore=4
        )
        self.toc_levels = [
            ParagraphStyle(
                "toc-0",
                **base | {"fontName": typefaces.BOLD},
                fontSize=10,
                leading=13,
                spaceBefore=7,
                leftIndent=0,
                firstLineIndent=0,
            ),
            ParagraphStyle(
                "toc-1", **base, fontSize=9.5, leading=12, leftIndent=16, firstLineIndent=0
            ),
        ]


class _Heading(Paragraph):
    """A paragraph that is a contents entry and a bookmark."""

    def __init__(self, text: str, style: ParagraphStyle, level: int, key: str) -> None:
        super().__init__(escape(text), style)
        self.entry = (level, text, key)


class _Quote(Paragraph):
    """A quote that moves whole to the next column rather than split.

    Only a quote that does not fit an empty column (it was postponed once already, or it
    is taller than any column) splits, so that it still renders.
    """

    _wrapped: tuple | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        # Every column has the same width: break the lines once, not once per look.
        if self._wrapped is not None and self._wrapped[0] == availWidth:
            _, self.blPara, self._wrapWidths, self.width, self.height = self._wrapped
            return self.width, self.height
        width, height = super().wrap(availWidth, availHeight)
        self._wrapped = (availWidth, self.blPara, self._wrapWidths, width, height)
        return width, height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        self.wrap(availWidth, availHeight)
        if getattr(self, "_postponed", False) or self.height > BODY_HEIGHT:
            return super().split(availWidth, availHeight)
        return []


class _Bookmark(Flowable):
    """An invisible anchor that adds a contents entry and a bookmark where it lands."""

    def __init__(self, text: str, level: int, key: str) -> None:
        super().__init__()
        self.entry = (level, text, key)
        self.width = self.height = 0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        pass


class _Story:
    """Turn an anthology into the list of flowables, in reading order."""

    def __init__(self, anthology: Anthology, wording: Wording, styles: _Styles) -> None:
        self.anthology = anthology
        self.words = wording
        self.styles = styles
        self.flowables: list[Flowable] = []
        self.entries: list[tuple[int, str, int, str]] = []
        self.keys = iter(f"h{index}" for index in range(10**9))

    def build(self) -> list[Flowable]:
        self._cover()
        self._contents()
        if self.anthology.introduction.strip():
            self._introduction()
        for chapter in self.anthology.chapters:
            self._chapter(chapter)
        if self.anthology.results:
            self._results()
        if self.anthology.methods is not None:
            self._methods(self.anthology.methods)
        # Seed the contents with entries of the right length (page numbers still unknown),
        # so that the first pass lays out as many contents lines as the last and two passes
        # suffice; ReportLab moves _entries to _lastEntries before each pass.
        self.toc._entries = list(self.entries)
        return self.flowables

    def add(self, *flowables: Flowable) -> None:
        self.flowables.extend(flowables)

    def heading(self, text: str, style: ParagraphStyle, level: int) -> _Heading:
        key = next(self.keys)
        self.entries.append((level, text, 0, key))
        return _Heading(text, style, level, key)

    def bookmark(self, text: str, level: int) -> _Bookmark:
        key = next(self.keys)
        self.entries.append((level, text, 0, key))
        return _Bookmark(text, level, key)

    def _cover(self) -> None:
        anthology, styles = self.anthology, self.styles
        self.add(Spacer(1, 3.5 * cm))
        if anthology.logo is not None:
            self.add(_logo(anthology.logo), Spacer(1, 1.2 * cm))
        self.add(Paragraph(_text(anthology.title), styles.cover_title))
        if anthology.subtitle:
            self.add(Paragraph(_text(anthology.subtitle), styles.cover_subtitle))
        self.add(Spacer(1, 1.5 * cm))
        if anthology.organisation:
            self.add(Paragraph(_text(anthology.organisation), styles.cover_line))
        if anthology.date:
            self.add(Paragraph(_text(self.words.date(anthology.date)), styles.cover_line))
        self.add(NextPageTemplate("single"), PageBreak())

    def _contents(self) -> None:
        self.toc = TableOfContents(
            levelStyles=self.styles.toc_levels,
            dotsMinLevel=0,
            tableStyle=TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), typefaces.REGULAR),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ]
            ),
        )
        key = next(self.keys)
        title = self.words["contents"]
        self.contents_heading = _Heading(title, self.styles.part, -1, key)
        self.add(self.contents_heading, self.toc)

    def _introduction(self) -> None:
        self.add(PageBreak())
        self.add(self.heading(self.words["introduction"], self.styles.part, 0))
        self.add(*_blocks(parse_markup(self.anthology.introduction), self.styles))

    def _open_chapter(self, text: str) -> None:
        self.add(NextPageTemplate("chapter"), PageBreak())
        self.add(self.heading(text, self.styles.chapter, 0))
        self.add(NextPageTemplate("columns"), FrameBreak())

    def _chapter(self, chapter: Chapter) -> None:
        self._open_chapter(chapter.heading)
        for section in chapter.sections:
            heading = self.heading(section.heading, self.styles.section, 1)
            self.add(heading)
            first = True
            for group in section.groups:
                for index, quote in enumerate(group.in_order()):
                    style = (
                        self.styles.group_start if index == 0 and not first else self.styles.quote
                    )
                    self.add(_Quote(_text(quote), style))
                if group.quotes:
                    first = False

    def _results(self) -> None:
        self._open_chapter(self.words["results"])
        current = None
        for result in self.anthology.results:
            parts = _statement(result, self.words, self.styles)
            if result.section != current:
                # The heading travels inside its first statement's block: ReportLab does not
                # keep a heading with a following KeepTogether.
                current = result.section
                parts.insert(0, self.heading(current, self.styles.results_section, 1))
            self.add(KeepTogether(parts))

    def _methods(self, methods: Methods) -> None:
        words, styles = self.words, self.styles
        self.add(NextPageTemplate("single"), PageBreak())
        self.add(self.heading(words["methods"], styles.part, 0))
        if methods.panel:
            self.add(self.heading(words["panel"], styles.subheading, 1))
            rows = [[words["group"], words["size"]]]
            rows += [[group, str(size)] for group, size in methods.panel]
            rows.append([words["total"], str(sum(size for _, size in methods.panel))])
            self.add(_table(rows, styles, total_row=True))
        if methods.rounds:
            self.add(self.heading(words["rounds"], styles.subheading, 1))
            rows = [
                [
                    words["round"],
                    words["invited"],
                    words["responded"],
                    words["response_rate"],
                    words["attrition"],
                    words["retired"],
                ]
            ]
            for entry in methods.rounds:
                rows.append(
                    [
                        str(entry.number),
                        str(entry.invited),
                        str(entry.responded),
                        words.percent(entry.rate),
                        "–" if entry.attrition is None else words.percent(entry.attrition),
                        str(entry.retired),
                    ]
                )
            self.add(_table(rows, styles))
        for name in ("consensus_rule", "stop_rules", "quantile_method"):
            value = getattr(methods, name)
            if not value:
                continue
            self.add(self.heading(words[name], styles.subheading, 1))
            self.add(*_blocks(parse_markup(value), styles))
            if name == "consensus_rule" and methods.rule_fixed_at:
                line = f"{words['rule_fixed_at']}: {methods.rule_fixed_at}"
                self.add(Paragraph(_text(line), styles.body))


def _statement(result: StatementResult, words: Wording, styles: _Styles) -> list[Flowable]:
    parts: list[Flowable] = [Paragraph(_text(result.text), styles.statement)]
    parts.append(pdf_drawing(bar_chart(result, COLUMN_WIDTH)))
    figures = [
        f"{words['n']} = {result.n}",
        f"{words['median']} {words.number(result.median)}",
        f"{words['iqr']} {words.number(result.iqr)}",
        f"{words['agreement']} {words.percent(result.percent_agreement)}",
        words.consensus(result.consensus),
    ]
    if result.no_opinion:
        figures.insert(1, f"{words['no_opinion']}: {result.no_opinion}")
    parts.append(Paragraph(_text(" · ".join(figures)), styles.figures))
    if len(result.history) > 1:
        steps = " → ".join(
            f"{words['round'].lower()} {figure.round}: {words.number(figure.median)}"
            f" ({words['iqr']} {words.number(figure.iqr)},"
            f" {words.percent(figure.percent_agreement)})"
            for figure in result.history
        )
        parts.append(Paragraph(_text(f"{words['movement']}: {steps}"), styles.figures))
    return parts


def _blocks(blocks: tuple[Block, ...], styles: _Styles) -> Iterator[Flowable]:
    for block in blocks:
        if block.kind == "paragraph":
            yield Paragraph(_runs(block.items[0]), styles.body)
        else:
            for item in block.items:
                yield Paragraph(_runs(item), styles.bullet, bulletText="•")


def _runs(runs: tuple[Run, ...]) -> str:
    tags = {"": ("", ""), "em": ("<i>", "</i>"), "strong": ("<b>", "</b>")}
    return "".join(
        f"{tags[run.emphasis][0]}{_text(run.text)}{tags[run.emphasis][1]}" for run in runs
    )


def _table(rows: list[list[str]], styles: _Styles, *, total_row: bool = False) -> Table:
    cells = [[Paragraph(_text(cell), styles.cell) for cell in row] for row in rows]
    table = Table(cells, hAlign="LEFT", repeatRows=1)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), typefaces.REGULAR),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 14),
    ]
    if total_row:
        commands.append(("LINEABOVE", (0, -1), (-1, -1), 0.4, RULE))
    table.setStyle(TableStyle(commands))
    return table


def _logo(data: bytes) -> Image:
    reader = ImageReader(io.BytesIO(data))
    width, height = reader.getSize()
    scale = min(6 * cm / width, 3 * cm / height, 1.0)
    return Image(io.BytesIO(data), width * scale, height * scale, hAlign="LEFT")


def _text(text: str) -> str:
    """Escape text for a ReportLab paragraph, composed so accents sit on their letters."""
    return escape(unicodedata.normalize("NFC", text))


class _AnthologyDocument(BaseDocTemplate):
    """Page templates, the running footer, bookmarks, contents entries and progress."""

    def __init__(self, buffer: io.BytesIO, anthology: Anthology, progress: Progress | None):
        super().__init__(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=anthology.title,
            author=anthology.author or anthology.organisation or "",
            subject=anthology.subtitle or "",
            creator="surveyapp",
            lang=PDF_LANGUAGE[anthology.language],
            invariant=True,
            pageCompression=1,
            initialFontName=typefaces.REGULAR,
            initialFontSize=9,
            displayDocTitle=True,
        )
        self.anthology = anthology
        self.progress = progress
        self.passes = 0
        self.total = 0
        self.done = 0
        self.stamp = _timestamp(anthology)
        self.addPageTemplates(_page_templates(anthology.footer_text))

    def beforeDocument(self) -> None:
        self.passes += 1
        _stamp(self.canv._doc, self.stamp)
        # Outline levels start collapsed at chapters for a long anthology.
        self.canv.showOutline()

    def handle_flowable(self, flowables: list[Flowable]) -> None:
        super().handle_flowable(flowables)
        if self.progress is None:
            return
        # Two passes are planned; a third (rare) one stretches the total.
        length = self._story_length
        self.total = max(self.total, length * max(self.passes, 2))
        consumed = min(max(length - len(flowables), 0), length)
        self.done = max(self.done, (self.passes - 1) * length + consumed)
        self.progress(self.done, self.total)

    def build(self, flowables: list[Flowable], *args, **kwargs) -> None:  # type: ignore[override]
        self._story_length = len(flowables)
        super().build(flowables, *args, **kwargs)

    def finish_progress(self) -> None:
        """Report the build complete."""
        if self.progress is not None:
            self.total = max(self.total, self.done)
            self.progress(self.total, self.total)

    def afterFlowable(self, flowable: Flowable) -> None:
        entry = getattr(flowable, "entry", None)
        if entry is None:
            return
        level, text, key = entry
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(text, key, level=max(level, 0), closed=level >= 0)
        if level >= 0:
            self.notify("TOCEntry", (level, text, self.page, key))


def _page_templates(footer: str) -> list[PageTemplate]:
    def running_footer(canvas, document) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(typefaces.REGULAR, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN_X, FOOTER_BASELINE, footer)
        canvas.drawRightString(PAGE_WIDTH - MARGIN_X, FOOTER_BASELINE, str(document.page))
        canvas.restoreState()

    def columns(top: float, prefix: str) -> list[Frame]:
        height = top - MARGIN_BOTTOM
        return [
            Frame(
                MARGIN_X + index * (COLUMN_WIDTH + GUTTER),
                MARGIN_BOTTOM,
                COLUMN_WIDTH,
                height,
                id=f"{prefix}-{side}",
                leftPadding=0,
                rightPadding=0,
                topPadding=0,
                bottomPadding=0,
            )
            for index, side in enumerate(("left", "right"))
        ]

    full_width = PAGE_WIDTH - 2 * MARGIN_X
    body_top = PAGE_HEIGHT - MARGIN_TOP
    padding = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
    return [
        PageTemplate(
            "cover",
            [Frame(MARGIN_X, MARGIN_BOTTOM, full_width, BODY_HEIGHT, id="cover", **padding)],
        ),
        PageTemplate(
            "single",
            [Frame(MARGIN_X, MARGIN_BOTTOM, full_width, BODY_HEIGHT, id="single", **padding)],
            onPage=running_footer,
        ),
        PageTemplate(
            "chapter",
            [
                Frame(
                    MARGIN_X,
                    body_top - CHAPTER_HEAD_HEIGHT,
                    full_width,
                    CHAPTER_HEAD_HEIGHT,
                    id="chapter-head",
                    **padding,
                ),
                *columns(body_top - CHAPTER_HEAD_HEIGHT, "chapter"),
            ],
            onPage=running_footer,
        ),
        PageTemplate("columns", columns(body_top, "columns"), onPage=running_footer),
    ]


def _stamp(document: PDFDocument, stamp: TimeStamp) -> None:
    """Date the file and seed its /ID from stamp, as ReportLab would, ignoring the environment.

    ReportLab reads SOURCE_DATE_EPOCH itself; the anthology's own date must win so that the
    same input gives the same bytes wherever it is built.
    """
    document._timeStamp = stamp
    document.signature = hashlib.md5(usedforsecurity=False)
    document.signature.update(b"a reportlab document")
    document.signature.update(ascii(stamp.t).encode("ascii"))


def _timestamp(anthology: Anthology) -> TimeStamp:
    """Return the creation date: the anthology's own date, else a fixed one."""
    stamp = TimeStamp(invariant=True)
    moment = (
        time.struct_time((*anthology.date.timetuple()[:6], 0, 1, 0))
        if anthology.date is not None
        else _EPOCH
    )
    stamp.t = float(calendar.timegm(moment))
    stamp.lt = moment
    stamp.YMDhms = tuple(moment)[:6]
    stamp.dhh = stamp.dmm = 0
    stamp.tzname = "UTC"
    return stamp
