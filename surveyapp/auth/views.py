from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from surveyapp.audit import record_action
from surveyapp.auth import bp
from surveyapp.auth.forms import AccountForm, LoginForm
from surveyapp.auth.services import (
    AccountError,
    authenticate,
    create_coordinator,
    list_coordinators,
    set_active,
)
from surveyapp.extensions import db, limiter
from surveyapp.models import Coordinator


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
    """Return the `next` page if it is a path on this site, else None (no open redirect)."""
    target = request.args.get("next", "")
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in target):
        return None  # browsers drop tabs and newlines and read backslashes as slashes
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


@bp.route("/accounts", methods=["GET", "POST"])
@login_required
def accounts():
    _require_admin()
    form = AccountForm()
    if form.validate_on_submit():
        try:
            coordinator = create_coordinator(
                form.email.data, form.password.data, is_admin=form.is_admin.data
            )
        except AccountError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            record_action(current_user, "account.create", email=coordinator.email)
            db.session.commit()
            flash(_("Account %(email)s created.", email=coordinator.email), "success")
            return redirect(url_for("auth.accounts"))
    return render_template("auth/accounts.html", form=form, accounts=list_coordinators())


@bp.post("/accounts/<int:coordinator_id>/active")
@login_required
def toggle_account(coordinator_id: int):
    _require_admin()
    coordinator = db.session.get(Coordinator, coordinator_id) or abort(404)
    try:
        set_active(current_user, coordinator, not coordinator.active)
    except AccountError as error:
        db.session.rollback()
        flash(_("Nothing changed: %(reason)s.", reason=error), "error")
        return redirect(url_for("auth.accounts"))
    record_action(
        current_user, "account.active", email=coordinator.email, active=coordinator.active
    )
    db.session.commit()
    return redirect(url_for("auth.accounts"))
