"""Publishing: a study's included quotes and results gathered into an anthology, and built."""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from surveyapp import anthology as book
from surveyapp.audit import record_action
from surveyapp.extensions import db
from surveyapp.models import (
    AnthologyBuild,
    BuildState,
    Coordinator,
    OutboxMessage,
    PanelGroup,
    PanelMember,
    Quote,
    Response,
    ResponseState,
    RoundState,
    Study,
    Theme,
)
from surveyapp.models.base import DISPLAY_ZONE
from surveyapp.questionnaire.services import scale_labels
from surveyapp.results.services import StatementFigures, study_results


def gather_anthology(study: Study) -> book.Anthology:
    """Collect the study's included quotes, statement results and methods as plain data."""
    with force_locale(study.language):  # the words around the data speak the study's language
        return _gather(study)


def _gather(study: Study) -> book.Anthology:
    quotes = db.session.scalars(
        select(Quote)
        .join(Theme, Quote.section_id == Theme.id)
        .where(Theme.study_id == study.id, Quote.included)
        .order_by(Quote.group, Quote.position.is_(None), Quote.position, Quote.id)
    ).all()
    by_section: dict[int, dict[int, list[Quote]]] = defaultdict(lambda: defaultdict(list))
    for quote in quotes:
        by_section[quote.section_id][quote.group].append(quote)

    chapters = []
    for chapter in sorted((t for t in study.themes if t.is_chapter), key=lambda t: t.sort_key):
        sections = []
        for section in sorted(
            (t for t in study.themes if t.parent_id == chapter.id),
            key=lambda t: t.sort_key,
        ):
            groups = tuple(
                book.QuoteGroup(
                    quotes=tuple(q.text for q in group),
                    order="given" if any(q.position is not None for q in group) else "alphabetical",
                )
                for _, group in sorted(by_section[section.id].items())
            )
            if groups:
                sections.append(book.Section(section.number, section.title or None, groups))
        if sections:
            chapters.append(book.Chapter(chapter.number, chapter.title or None, tuple(sections)))

    statements = study_results(study)
    return book.Anthology(
        title=study.title,
        subtitle=study.subtitle or None,
        organisation=study.organisation or None,
        date=(study.rounds[-1].closed_at or study.created_at).astimezone(DISPLAY_ZONE).date()
        if study.rounds
        else None,
        footer=study.footer,
        logo=study.logo,
        language=study.language,
        author=study.organisation or None,
        introduction=study.introduction,
        chapters=tuple(chapters),
        results=tuple(
            _statement_result(s) for s in sorted(statements, key=_by_section) if s.latest.n > 0
        ),
        methods=_methods(study, statements),
    )


def _by_section(figures: StatementFigures) -> tuple[int, tuple[int, ...], int, int]:
    """Order results as the anthology's chapters: by section number, statements without last."""
    section = figures.item.section
    if section is None:
        return (1, (), figures.rounds[0][0], figures.item.position)
    return (0, section.sort_key, figures.rounds[0][0], figures.item.position)


def _statement_result(figures: StatementFigures) -> book.StatementResult:
    item, latest = figures.item, figures.latest
    points = item.scale_points or 5
    labels = scale_labels(points, item.scale_labels)
    return book.StatementResult(
        section=item.section.label if item.section else "",
        text=item.text,
        scale_labels=labels,
        distribution=tuple(latest.distribution),
        n=latest.n,
        no_opinion=latest.no_opinion,
        median=latest.median or 0.0,
        iqr=latest.iqr or 0.0,
        percent_agreement=latest.percent_agreement or 0.0,
        consensus=latest.consensus,  # type: ignore[arg-type]
        history=tuple(
            book.RoundFigure(n, f.n, f.median or 0.0, f.iqr or 0.0, f.percent_agreement or 0.0)
            for n, f in figures.rounds
            if f.n > 0
        ),
    )


def _methods(study: Study, statements: list[StatementFigures]) -> book.Methods:
    panel = db.session.execute(
        select(func.coalesce(PanelGroup.name, ""), func.count(PanelMember.id))
        .select_from(PanelMember)
        .outerjoin(PanelGroup, PanelMember.group_id == PanelGroup.id)
        .where(PanelMember.study_id == study.id)
        .group_by(PanelGroup.name)
        .order_by(PanelGroup.name)
    ).all()
    responders: dict[int, set[int]] = defaultdict(set)
    for round_id, member_id in db.session.execute(
        select(Response.round_id, Response.member_id)
        .join(Response.round)
        .where(Response.state == ResponseState.SUBMITTED, Response.round.has(study_id=study.id))
    ):
        responders[round_id].add(member_id)
    invited = dict(
        db.session.execute(
            select(OutboxMessage.round_id, func.count(func.distinct(OutboxMessage.member_id)))
            .where(OutboxMessage.study_id == study.id, OutboxMessage.kind == "invitation")
            .group_by(OutboxMessage.round_id)
        ).all()
    )
    closed = {r.number for r in study.rounds if r.state is RoundState.CLOSED}
    retired_in: dict[int, int] = defaultdict(int)
    for figures in statements:
        last_round = figures.rounds[-1][0]
        if figures.retire and last_round in closed:  # an open round has not decided yet
            retired_in[last_round] += 1
    rounds = []
    previous: set[int] | None = None
    for round_ in study.rounds:
        if round_.opened_at is None:
            continue
        now = responders[round_.id]
        attrition = 100.0 * len(previous - now) / len(previous) if previous else None
        rounds.append(
            book.RoundResponse(
                number=round_.number,
                invited=invited.get(round_.id, 0),
                responded=len(now),
                attrition=attrition,
                retired=retired_in[round_.number],
            )
        )
        previous = now
    if study.retire_stable:
        stop = _(
            "A statement leaves the next round at consensus or when it is stable (its"
            " distribution changes %(threshold)s%% or less); the study stops after at most"
            " %(cap)d rounds.",
            threshold=format_decimal(study.stability_threshold, locale=study.language),
            cap=study.round_cap,
        )
    else:
        stop = _(
            "A statement leaves the next round at consensus; the study stops after at most"
            " %(cap)d rounds.",
            cap=study.round_cap,
        )
    return book.Methods(
        panel=tuple(book.PanelGroup(name or _("(no group)"), size) for name, size in panel),
        rounds=tuple(rounds),
        consensus_rule=study.consensus_rule,
        rule_fixed_at=format_datetime(
            study.rule_fixed_at, "d MMMM yyyy HH:mm", tzinfo=DISPLAY_ZONE, locale=study.language
        )
        if study.rule_fixed_at
        else None,
        stop_rules=stop,
        quantile_method=study.quantile_method,
    )


def write_anthology(
    anthology: book.Anthology,
    pdf_path: Path,
    html_path: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Render and write the files; each appears whole or not at all."""
    pdf = book.render_pdf(anthology, progress=progress)
    html = book.render_html(anthology) if html_path is not None else None
    _write_atomically(pdf_path, pdf)
    if html_path is not None and html is not None:
        _write_atomically(html_path, html.encode("utf-8"))


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


STALE_BUILD_AFTER = timedelta(minutes=30)  # the largest anthology builds in seconds


def request_build(actor: Coordinator, study: Study, now: datetime) -> AnthologyBuild:
    """Queue an anthology build, or return the one already queued or running.

    A build still "running" long after it started lost its worker (a restart, Ctrl+C):
    it is marked failed so that a new one can start.
    """
    db.session.get(Study, study.id, with_for_update=True)  # one request at a time per study
    fail_stale_builds(now, study_id=study.id)
    pending = db.session.scalar(
        select(AnthologyBuild).where(
            AnthologyBuild.study_id == study.id,
            AnthologyBuild.state.in_([BuildState.QUEUED, BuildState.RUNNING]),
        )
    )
    if pending is not None:
        return pending
    build = AnthologyBuild(study_id=study.id, requested_by_id=actor.id, created_at=now)
    db.session.add(build)
    record_action(actor, "anthology.request", study)
    return build


def fail_stale_builds(now: datetime, study_id: int | None = None) -> int:
    """Mark builds that have been running for too long as failed; return how many."""
    query = select(AnthologyBuild).where(
        AnthologyBuild.state == BuildState.RUNNING,
        AnthologyBuild.started_at < now - STALE_BUILD_AFTER,
    )
    if study_id is not None:
        query = query.where(AnthologyBuild.study_id == study_id)
    stale = list(db.session.scalars(query))
    for build in stale:
        build.state = BuildState.FAILED
        build.error = "the worker stopped during this build; build again"
        build.finished_at = now
    return len(stale)


def latest_build(study: Study) -> AnthologyBuild | None:
    return db.session.scalar(
        select(AnthologyBuild)
        .where(AnthologyBuild.study_id == study.id)
        .order_by(AnthologyBuild.id.desc())
        .limit(1)
    )


def claim_build(now: datetime) -> AnthologyBuild | None:
    """Take the oldest queued build for this worker (the caller commits the claim)."""
    fail_stale_builds(now)
    query = (
        select(AnthologyBuild)
        .where(AnthologyBuild.state == BuildState.QUEUED)
        .order_by(AnthologyBuild.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    build = db.session.scalar(query)
    if build is not None:
        build.state = BuildState.RUNNING
        build.started_at = now
    return build
