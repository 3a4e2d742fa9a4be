from flask import Blueprint

bp = Blueprint("publishing", __name__, url_prefix="/studies/<int:study_id>/anthology")

from surveyapp.publishing import views  # noqa: E402, F401 - the routes register themselves on bp
