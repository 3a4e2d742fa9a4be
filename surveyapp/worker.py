"""Work that never runs inside a request: anthology builds (and, with mail, delivery)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from flask import Flask

from surveyapp.extensions import db
from surveyapp.mail.delivery import deliver_outbox
from surveyapp.models import AnthologyBuild, BuildState, Study, utcnow
from surveyapp.publishing.services import claim_build, gather_anthology, write_anthology
from surveyapp.studies.services import close_due_rounds

log = logging.getLogger(__name__)


def run_next_build(
    reports_dir: Path, now_fn: Callable[[], datetime] = utcnow
) -> AnthologyBuild | None:
    """Build the oldest queued anthology, committing its progress as it goes."""
    build = claim_build(now_fn())
    if build is None:
        db.session.rollback()
        return None
    db.session.commit()
    last_percent = -1

    def progress(done: int, total: int) -> None:
        nonlocal last_percent
        percent = 100 * done // max(total, 1)
        if percent - last_percent >= 5 or done == total:
            build.progress_done, build.progress_total = done, total
            db.session.commit()
            last_percent = percent

    try:
        study = db.session.get(Study, build.study_id)
        assert study is not None  # the build row would be gone with its study
        stem = reports_dir / f"{study.slug}-{build.id}"
        anthology = gather_anthology(study)
        db.session.commit()  # end the read: on SQLite every transaction holds the write lock
        write_anthology(anthology, stem.with_suffix(".pdf"), stem.with_suffix(".html"), progress)
    except Exception as error:  # a failed build is reported on the page, not lost in a log
        log.exception("anthology build %s failed", build.id)
        db.session.rollback()
        build.state = BuildState.FAILED
        build.error = f"{type(error).__name__}: {error}"
    else:
        build.state = BuildState.DONE
        build.pdf_path = str(stem.with_suffix(".pdf"))
        build.html_path = str(stem.with_suffix(".html"))
    build.finished_at = now_fn()
    db.session.commit()
    return build


def run_once(app: Flask) -> None:
    """Do what is due now: close rounds, deliver queued mail, run queued anthology builds.

    Rounds whose closing time has come are closed first. Each kind of work fails on its
    own: a mail server problem does not hold up builds.
    """
    with app.app_context():
        try:
            close_due_rounds(utcnow())
            db.session.commit()
        except Exception:
            log.exception("closing due rounds failed; trying again on the next pass")
            db.session.rollback()
        try:
            deliver_outbox(app.config)
        except Exception:
            log.exception("mail delivery failed; trying again on the next pass")
            db.session.rollback()
        while run_next_build(Path(app.config["REPORTS_DIR"])) is not None:
            pass


def work_until(app: Flask, stop: threading.Event, interval: float) -> None:
    """Run run_once every interval seconds until stop is set."""
    while not stop.is_set():
        try:
            run_once(app)
        except Exception:  # keep the worker alive; the next pass tries again
            log.exception("background work failed")
        stop.wait(interval)


def start_background_worker(app: Flask, interval: float = 2.0) -> threading.Event:
    """Run work_until in a daemon thread beside the development server; set the event to stop."""
    stop = threading.Event()
    threading.Thread(
        target=work_until, args=(app, stop, interval), name="surveyapp-worker", daemon=True
    ).start()
    return stop
