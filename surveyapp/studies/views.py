from flask import render_template
from flask_login import login_required

from surveyapp.studies import bp


@bp.get("/")
@login_required
def index():
    return render_template("base.html")
