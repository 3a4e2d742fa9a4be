"""A statement's distribution as a small horizontal bar chart, for the PDF and the HTML twin."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib.colors import HexColor
from reportlab.pdfbase.pdfmetrics import stringWidth

from surveyapp.anthology import typefaces
from surveyapp.anthology.model import StatementResult

BAR_COLOUR = "#1f5fa8"
AXIS_COLOUR = "#595959"
TEXT_COLOUR = "#1a1a1a"
ROW_HEIGHT = 10.0
BAR_HEIGHT = 7.0
FONT_SIZE = 6.5
LABEL_GAP = 4.0
COUNT_WIDTH = 18.0


@dataclass(frozen=True)
class Bar:
    """One scale label's bar, placed in a chart whose origin is the top left corner."""

    label: str
    count: int
    label_right: float
    bar_left: float
    bar_width: float
    top: float
    baseline: float


@dataclass(frozen=True)
class BarChart:
    """The bars of one statement and the chart's size."""

    bars: tuple[Bar, ...]
    width: float
    height: float
    axis_left: float
    font_size: float
    bar_height: float


def bar_chart(result: StatementResult, width: float, scale: float = 1.0) -> BarChart:
    """Lay out one bar per scale label, longest label deciding where the bars start.

    scale enlarges text and bars alike (the HTML twin draws at twice the PDF's size).
    """
    typefaces.register()
    font_size, row_height, bar_height = FONT_SIZE * scale, ROW_HEIGHT * scale, BAR_HEIGHT * scale
    label_width = max(
        stringWidth(label, typefaces.REGULAR, font_size) for label in result.scale_labels
    )
    label_width = min(label_width, width * 0.45)
    bar_left = label_width + LABEL_GAP * scale
    room = max(width - bar_left - COUNT_WIDTH * scale, 10.0)
    largest = max(result.distribution, default=0) or 1
    bars = tuple(
        Bar(
            label=label,
            count=count,
            label_right=label_width,
            bar_left=bar_left,
            bar_width=room * count / largest,
            top=index * row_height + (row_height - bar_height) / 2,
            baseline=index * row_height + row_height / 2 + font_size * 0.35,
        )
        for index, (label, count) in enumerate(
            zip(result.scale_labels, result.distribution, strict=True)
        )
    )
    return BarChart(
        bars=bars,
        width=width,
        height=row_height * len(bars),
        axis_left=bar_left,
        font_size=font_size,
        bar_height=bar_height,
    )


def pdf_drawing(chart: BarChart) -> Drawing:
    """Draw a chart with ReportLab graphics, in the embedded font."""
    # The renderer otherwise starts every drawing in Helvetica, a font that is not embedded.
    drawing = Drawing(
        chart.width,
        chart.height,
        initialFontName=typefaces.REGULAR,
        initialFontSize=chart.font_size,
    )
    height = chart.height
    for bar in chart.bars:
        drawing.add(
            String(
                bar.label_right,
                height - bar.baseline,
                bar.label,
                fontName=typefaces.REGULAR,
                fontSize=chart.font_size,
                fillColor=HexColor(TEXT_COLOUR),
                textAnchor="end",
            )
        )
        if bar.count:
            drawing.add(
                Rect(
                    bar.bar_left,
                    height - bar.top - chart.bar_height,
                    bar.bar_width,
                    chart.bar_height,
                    fillColor=HexColor(BAR_COLOUR),
                    strokeColor=None,
                )
            )
        drawing.add(
            String(
                bar.bar_left + bar.bar_width + 2,
                height - bar.baseline,
                str(bar.count),
                fontName=typefaces.REGULAR,
                fontSize=chart.font_size,
                fillColor=HexColor(TEXT_COLOUR),
            )
        )
    drawing.add(
        Line(
            chart.axis_left,
            0,
            chart.axis_left,
            height,
            strokeColor=HexColor(AXIS_COLOUR),
            strokeWidth=0.5,
        )
    )
    return drawing
