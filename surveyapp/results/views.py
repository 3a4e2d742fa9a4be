from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from surveyapp.extensions import db
from surveyapp.models import RoundState
from surveyapp.results import bp
from surveyapp.results import services as results
from surveyapp.studies.services import StudyError
from surveyapp.studies.views import get_study


@bp.get("/")
@login_required
def index(study_id: int):
    study = get_study(study_id)
    page = results.results_page(study)
    closed = [r for r in study.rounds if r.state is RoundState.CLOSED]
    later = [r for r in study.rounds if closed and r.number > closed[-1].number]
    can_carry = bool(closed) and all(r.state is RoundState.DRAFT for r in later)
    return render_template(
        "results/index.html",
        study=study,
        statements=page.statements,
        panel=page.panel,
        can_carry=can_carry,
        last_closed=closed[-1] if closed else None,
    )


@bp.post("/carry-forward")
@login_required
def carry_forward(study_id: int):
    study = get_study(study_id)
    try:
        target, carried = results.prepare_next_round(
            current_user, results.study_results(study), study
        )
    except StudyError as error:
        db.session.rollback()
        flash(_("No round was prepared: %(reason)s.", reason=error), "error")
        return redirect(url_for("results.index", study_id=study.id))
    db.session.commit()
    flash(
        ngettext(
            "Round %(n)d prepared with %(num)d statement not yet retired.",
            "Round %(n)d prepared with %(num)d statements not yet retired.",
            len(carried),
            n=target.number,
        ),
        "success",
    )
    return redirect(url_for("studies.round_page", study_id=study.id, number=target.number))
