from flask import Blueprint

bp = Blueprint("studies", __name__)

from surveyapp.studies import views  # noqa: E402, F401 - the routes register themselves on bp
