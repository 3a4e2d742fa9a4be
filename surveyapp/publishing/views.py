from pathlib import Path

from flask import abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from surveyapp.extensions import db
from surveyapp.models import AnthologyBuild, BuildState, utcnow
from surveyapp.publishing import bp
from surveyapp.publishing import services as publishing
from surveyapp.studies.views import get_study


@bp.get("/")
@login_required
def index(study_id: int):
    study = get_study(study_id)
    return render_template(
        "publishing/index.html", study=study, build=publishing.latest_build(study)
    )


@bp.post("/build")
@login_required
def build(study_id: int):
    study = get_study(study_id)
    publishing.request_build(current_user, study, utcnow())
    db.session.commit()
    flash(_("The anthology is being built. This page shows when it is ready."), "info")
    return redirect(url_for("publishing.index", study_id=study.id))


@bp.get("/status")
@login_required
def status(study_id: int):
    build = publishing.latest_build(get_study(study_id))
    if build is None:
        return jsonify(state=None)
    return jsonify(state=build.state.value, percent=build.percent, error=build.error)


def _finished_build(study_id: int, build_id: int) -> AnthologyBuild:
    study = get_study(study_id)
    build = db.session.get(AnthologyBuild, build_id)
    if build is None or build.study_id != study.id or build.state is not BuildState.DONE:
        abort(404)
    return build


@bp.get("/<int:build_id>/anthology.pdf")
@login_required
def pdf(study_id: int, build_id: int):
    build = _finished_build(study_id, build_id)
    return send_file(
        Path(build.pdf_path),
        mimetype="application/pdf",
        download_name=f"bloemlezing-{build.id}.pdf",
    )


@bp.get("/<int:build_id>/anthology.html")
@login_required
def html(study_id: int, build_id: int):
    build = _finished_build(study_id, build_id)
    return send_file(Path(build.html_path), mimetype="text/html")


@bp.get("/<int:build_id>/download.html")
@login_required
def html_download(study_id: int, build_id: int):
    build = _finished_build(study_id, build_id)
    return send_file(
        Path(build.html_path),
        mimetype="text/html",
        as_attachment=True,
        download_name=f"bloemlezing-{build.id}.html",
    )
