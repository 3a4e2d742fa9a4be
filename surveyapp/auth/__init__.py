"""Coordinator accounts: login, logout, and who may see which study."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from surveyapp.auth import views  # noqa: E402, F401 - the routes register themselves on bp
