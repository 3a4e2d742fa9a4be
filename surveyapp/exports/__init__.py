"""Exports: a study's ratings, open answers and codebook as CSV, XLSX and SPSS files."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/studies/<int:study_id>/exports")

from surveyapp.exports import views  # noqa: E402, F401 - the routes register themselves on bp
