from flask import Blueprint

bp = Blueprint("questionnaire", __name__, url_prefix="/q")

from surveyapp.questionnaire import views  # noqa: E402, F401 - the routes register themselves on bp
