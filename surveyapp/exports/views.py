import io

from flask import Response, current_app, request, send_file
from flask_login import current_user, login_required

from surveyapp.audit import record_action
from surveyapp.exports import bp
from surveyapp.exports import services as exports
from surveyapp.extensions import db
from surveyapp.models import Study
from surveyapp.studies.views import get_study

# Each file is built in the request: a few MB at most for the largest realistic study.
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SAV = "application/x-spss-sav"


def _download(study: Study, data: bytes, name: str, mimetype: str) -> Response:
    """Send the file as a download; log who took which file; keep it out of every cache."""
    record_action(current_user, "export.download", study, file=name)
    db.session.commit()
    response = send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"{study.slug}-{name}",
        etag=False,
        last_modified=None,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _key() -> bytes:
    return exports.pseudonym_key(current_app.secret_key)


@bp.get("/ratings.csv")
@login_required
def ratings_csv(study_id: int):
    study = get_study(study_id)
    data = exports.to_csv(exports.ratings_table(study, key=_key()))
    return _download(study, data, "ratings.csv", CSV)


@bp.get("/open-answers.csv")
@login_required
def open_answers_csv(study_id: int):
    study = get_study(study_id)
    quotes_only = request.args.get("quotes") == "1"
    data = exports.to_csv(exports.open_answers_table(study, quotes_only=quotes_only))
    return _download(study, data, "quotes.csv" if quotes_only else "open-answers.csv", CSV)


@bp.get("/codebook.csv")
@login_required
def codebook_csv(study_id: int):
    study = get_study(study_id)
    data = exports.to_csv(exports.codebook_table(exports.codebook(study)))
    return _download(study, data, "codebook.csv", CSV)


@bp.get("/study.xlsx")
@login_required
def workbook(study_id: int):
    study = get_study(study_id)
    return _download(study, exports.study_workbook(study, key=_key()), "export.xlsx", XLSX)


@bp.get("/ratings.sav")
@login_required
def ratings_sav(study_id: int):
    study = get_study(study_id)
    return _download(study, exports.to_sav(study, key=_key()), "ratings.sav", SAV)
