from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from surveyapp.audit import record_action
from surveyapp.auth import bp
from surveyapp.auth.forms import LoginForm
from surveyapp.auth.services import authenticate
from surveyapp.extensions import db, limiter


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("studies.index"))
    form = LoginForm()
    if form.validate_on_submit():
        coordinator = authenticate(form.email.data, form.password.data)
        if coordinator is None:
            flash(_("That email address and password do not match an account."), "error")
            return render_template("auth/login.html", form=form), 401
        login_user(coordinator)
        record_action(coordinator, "login")
        db.session.commit()
        return redirect(_safe_next() or url_for("studies.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


def _safe_next() -> str | None:
    target = request.args.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else None
