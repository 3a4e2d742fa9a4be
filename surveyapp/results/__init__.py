"""Results: consensus per statement and round, and movement between rounds."""

from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/studies/<int:study_id>/results")

from surveyapp.results import views  # noqa: E402, F401 - the routes register themselves on bp
