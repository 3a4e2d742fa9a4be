"""Friendly pages for HTTP errors: what happened and what to do, in the visitor's language."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: (
        _l("Something in that request was not right"),
        _l("Go back, reload the page and try again."),
    ),
    403: (_l("Not allowed"), _l("Your account cannot do this.")),
    404: (_l("Page not found"), _l("Check the address, or start again from the list of studies.")),
    405: (_l("Not allowed"), _l("This address does not take that kind of request.")),
    413: (
        _l("That file is too large"),
        _l("Go back and choose a smaller file. Nothing was changed."),
    ),
    429: (
        _l("Too many attempts"),
        _l("For your safety we paused this for a moment. Wait a minute and try again."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("Nothing you did caused this. Try again in a moment; saved answers are kept."),
    ),
}


def init_app(app: Flask) -> None:
    """Render HTTP errors and expired forms with the site's own pages."""

    @app.errorhandler(CSRFError)
    def expired_form(error: CSRFError):  # type: ignore[no-untyped-def]
        title = _l("This form has expired")
        advice = _l("Reload the page and submit it again. Nothing was changed.")
        return render_template("errors/error.html", title=title, advice=advice), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        title, advice = MESSAGES.get(error.code or 500, (error.name, error.description))
        return render_template("errors/error.html", title=title, advice=advice), error.code
