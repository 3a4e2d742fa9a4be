"""Build a large anthology and report seconds, peak memory and pages.

5,000 quotes in 40 sections (about 300 pages) plus a results chapter of 200 statements,
hyphenation and contents included. Target: under 10 s and under 300 MB peak.

    python benchmarks/anthology_benchmark.py [--out FILE.pdf]
"""

from __future__ import annotations

import argparse
import datetime
import io
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from surveyapp.anthology import (
    Anthology,
    Chapter,
    Methods,
    PanelGroup,
    QuoteGroup,
    RoundFigure,
    RoundResponse,
    Section,
    StatementResult,
    render_pdf,
)

VOCABULARY = (
    "mensenhandel slachtoffers uitbuiting arbeidsuitbuiting criminele gemeenten zorg signalen "
    "aanpak politie hulpverlening kwetsbaarheid jongeren minderjarige meldingen samenwerking "
    "strafrechtelijk onderzoek opvang beleid uitvoering preventie voorlichting onderwijs "
    "netwerken verharding wantrouwen overheidsinstanties bestaansonzekerheid afstemming "
    "zorgpartijen straftoemeting oriëntatiepunten effectiviteit regelgeving bedrijven de het "
    "een en van in op met voor is zijn er meer minder steeds weinig veel niet maar ook dat"
)
WORDS = VOCABULARY.split()
SCALE = ("helemaal oneens", "oneens", "neutraal", "eens", "helemaal eens")


def make_quote(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 60))
    return " ".join(words).capitalize() + "."


def make_anthology(seed: int = 2025) -> Anthology:
    """Return the benchmark anthology: 4 chapters of 10 sections, 125 quotes each."""
    rng = random.Random(seed)
    chapters = []
    for chapter in range(1, 5):
        sections = []
        for number in range(1, 11):
            groups = tuple(
                QuoteGroup(tuple(make_quote(rng) for _ in range(size))) for size in (40, 35, 30, 20)
            )
            sections.append(Section(f"{chapter}.{number}", f"Thema {chapter}.{number}", groups))
        chapters.append(Chapter(str(chapter), f"Hoofdstuk {chapter}", tuple(sections)))
    results = []
    for index in range(200):
        distribution = tuple(rng.randint(0, 12) for _ in SCALE)
        n = sum(distribution)
        results.append(
            StatementResult(
                section=f"{index // 50 + 1}.{index % 10 + 1} Thema",
                text=make_quote(rng),
                scale_labels=SCALE,
                distribution=distribution,
                n=n,
                no_opinion=rng.randint(0, 3),
                median=float(rng.randint(1, 5)),
                iqr=rng.choice((0.5, 1.0, 1.5, 2.0)),
                percent_agreement=round(rng.uniform(20, 95), 1),
                consensus=rng.choice(("in", "out", "none")),
                history=(
                    RoundFigure(2, n + 2, 3.0, 2.0, 50.0),
                    RoundFigure(3, n, 4.0, 1.0, 70.0),
                ),
            )
        )
    return Anthology(
        title="Bloemlezing benchmark",
        subtitle="5.000 citaten in 40 paragrafen",
        organisation="surveyapp",
        date=datetime.date(2025, 1, 1),
        introduction="Een *groot* boek.\n\n- veel citaten\n- veel stellingen",
        chapters=tuple(chapters),
        results=tuple(results),
        methods=Methods(
            panel=(PanelGroup("Gemeenten", 40), PanelGroup("Zorg", 35)),
            rounds=(RoundResponse(1, 75, 60), RoundResponse(2, 60, 50, attrition=16.7)),
            consensus_rule="Ten minste 70% eens en IQR ten hoogste 1.",
            stop_rules="Stellingen met consensus gaan niet mee.",
            quantile_method="Hyndman-Fan type 7",
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the PDF here")
    arguments = parser.parse_args()

    anthology = make_anthology()
    started, cpu_started = time.perf_counter(), time.process_time()
    pdf = render_pdf(anthology)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    import pypdf

    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    quotes = sum(
        len(group.quotes)
        for chapter in anthology.chapters
        for section in chapter.sections
        for group in section.groups
    )
    print(f"quotes: {quotes}  sections: 40  statements: {len(anthology.results)}")
    print(f"seconds: {seconds:.2f} wall, {cpu_seconds:.2f} CPU")
    print(f"peak memory (max RSS of the process): {peak_mb:.0f} MB")
    print(f"pages: {pages}  size: {len(pdf) / 1e6:.1f} MB")
    if arguments.out:
        arguments.out.write_bytes(pdf)


if __name__ == "__main__":
    main()
