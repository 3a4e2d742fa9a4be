from flask import Blueprint

bp = Blueprint("coding", __name__, url_prefix="/studies/<int:study_id>/coding")

from surveyapp.coding import views  # noqa: E402, F401 - the routes register themselves on bp
