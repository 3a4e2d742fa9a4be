"""The expert's questionnaire, reached by a personal link only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_time, ngettext
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from surveyapp.config import LANGUAGES
from surveyapp.extensions import db
from surveyapp.models import PanelMember, Response, utcnow
from surveyapp.questionnaire import bp
from surveyapp.questionnaire.forms import initial_data, questionnaire_form
from surveyapp.questionnaire.services import (
    find_open_round,
    is_answered,
    list_items,
    load_member,
    load_questionnaire,
    resolve_link,
    save_answers,
)

SESSION_KEY = "expert"
MAX_AUTOSAVE_FIELDS = 2_000


@bp.after_request
def keep_private(response: Any) -> Any:
    """Keep answers out of shared caches and the personal link out of Referer headers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.errorhandler(CSRFError)
def refuse_without_csrf(error: CSRFError) -> ResponseReturnValue:
    message = _(
        "Your answers could not be saved because the page was out of date. "
        "Nothing was changed. Please reload the page and try again."
    )
    if request.is_json:
        return jsonify(error=message), 400
    return _message_page(_("Not saved"), [message], 400)


@bp.get("/<token>")
def open_link(token: str) -> ResponseReturnValue:
    """Trade the personal link for a session, so the token leaves the address bar."""
    session.pop(SESSION_KEY, None)
    invitation = resolve_link(token, utcnow())
    if invitation is None:
        return _link_not_working()
    session[SESSION_KEY] = {"member": invitation.member_id, "token": invitation.id}
    if "lang" not in request.args and invitation.member.language in LANGUAGES:
        session["lang"] = invitation.member.language
    return redirect(url_for("questionnaire.page"))


@bp.get("/")
def page() -> ResponseReturnValue:
    now = utcnow()
    member = _current_member(now)
    if member is None:
        return _link_not_working()
    round_ = find_open_round(member.study_id, now)
    if round_ is None:
        return _round_closed(200)
    questionnaire = load_questionnaire(member, round_)
    form = questionnaire_form(
        [view.item for view in questionnaire.items], data=initial_data(questionnaire)
    )
    return render_template("questionnaire/page.html", qn=questionnaire, form=form)


@bp.post("/")
def save() -> ResponseReturnValue:
    now = utcnow()
    member = _current_member(now)
    if member is None:
        return _link_not_working()
    round_ = find_open_round(member.study_id, now)
    if round_ is None or request.form.get("round_id") != str(round_.id):
        return _round_closed(409)
    questionnaire = load_questionnaire(member, round_)
    form = questionnaire_form([view.item for view in questionnaire.items])
    unknown = form.unknown_fields(request.form.keys())
    valid = form.validate()
    if unknown:
        form.form_errors.append(
            _(
                "This questionnaire has no question %(field)s. Please reload the page.",
                field=unknown[0],
            )
        )
    if unknown or not valid:
        return render_template("questionnaire/page.html", qn=questionnaire, form=form), 400

    submit = request.form.get("action") == "submit"
    unrated = form.flag_unrated() if submit else []
    answers = form.answers()
    _save_with_retry(
        lambda: save_answers(member, round_, answers, now, submit=submit and not unrated)
    )
    if unrated:
        questionnaire = load_questionnaire(member, round_)
        form.form_errors.append(
            ngettext(
                "Not submitted yet: %(num)d statement still needs a rating or “No opinion”. "
                "Your answers so far are saved as a draft.",
                "Not submitted yet: %(num)d statements still need a rating or “No opinion”. "
                "Your answers so far are saved as a draft.",
                len(unrated),
            )
        )
        return render_template("questionnaire/page.html", qn=questionnaire, form=form), 422
    if submit:
        flash(
            _(
                "Thank you: your answers were submitted. "
                "You can still change them with your link until the round closes."
            ),
            "success",
        )
    else:
        flash(
            _(
                "Your answers were saved at %(time)s. "
                "You can come back with your link until the round closes.",
                time=_clock(now),
            ),
            "success",
        )
    return redirect(url_for("questionnaire.page"))


@bp.post("/autosave")
def autosave() -> ResponseReturnValue:
    """Save the fields the page says have changed; the same payload twice changes nothing."""
    now = utcnow()
    member = _current_member(now)
    if member is None:
        return jsonify(
            error=_("Your session has ended. Please open the link in your email again.")
        ), 403
    payload = request.get_json(silent=True)
    fields = payload.get("fields") if isinstance(payload, dict) else None
    if (
        not isinstance(fields, dict)
        or len(fields) > MAX_AUTOSAVE_FIELDS
        or not all(isinstance(value, str) for value in fields.values())
    ):
        return jsonify(error=_("The answers could not be read. Nothing was changed.")), 400
    round_ = find_open_round(member.study_id, now)
    if round_ is None or str(payload.get("round_id")) != str(round_.id):
        return jsonify(error=_round_closed_text()), 409

    items = list_items(round_)
    form = questionnaire_form(items, formdata=MultiDict(fields))
    unknown = form.unknown_fields(fields)
    if unknown:
        return jsonify(
            error=_(
                "This questionnaire has no question %(field)s. Please reload the page.",
                field=unknown[0],
            )
        ), 400
    # Each field stands on its own: the valid ones are saved, the others reported by name.
    form.validate()
    errors = {
        name: [str(message) for message in messages] for name, messages in form.errors.items()
    }
    valid = [name for name in fields if name not in errors]
    if not valid:
        return jsonify(
            error=_("Not saved: please check your answer."), errors=errors, saved=[]
        ), 400

    # Fields that were not sent come back as None and leave their answers as they are.
    answers = form.answers(exclude=errors)
    response = _save_with_retry(lambda: save_answers(member, round_, answers, now))
    stored = {answer.item_id: answer for answer in response.answers}
    body = {
        "message": _("Saved at %(time)s", time=_clock(now)),
        "saved": valid,
        "answered": sum(is_answered(item, stored.get(item.id)) for item in items),
        "total": len(items),
    }
    if not errors:
        return jsonify(body)
    error = ngettext(
        "Saved at %(time)s, except %(num)d answer: please check the message next to it.",
        "Saved at %(time)s, except %(num)d answers: please check the messages next to them.",
        len(errors),
        time=_clock(now),
    )
    return jsonify({**body, "error": error, "errors": errors}), 400


def _current_member(now: datetime) -> PanelMember | None:
    """Return the member of this session while the link that opened it still works."""
    ids = session.get(SESSION_KEY)
    if not isinstance(ids, dict):
        return None
    member = load_member(ids.get("member"), ids.get("token"), now)
    if member is None:
        session.pop(SESSION_KEY, None)
    return member


def _save_with_retry(save: Callable[[], Response]) -> Response:
    """Run a save and commit it; retry once if a concurrent first save inserted the same rows."""
    try:
        response = save()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        response = save()
        db.session.commit()
    return response


def _clock(moment: datetime) -> str:
    return format_time(moment, "HH:mm")


def _round_closed_text() -> str:
    return _("This round is closed; your earlier answers were kept.")


def _round_closed(status: int) -> ResponseReturnValue:
    return _message_page(
        _("This round is closed"),
        [
            _round_closed_text(),
            _(
                "Thank you for taking part. "
                "If you have a question, contact the coordinator of the study."
            ),
        ],
        status,
    )


def _link_not_working() -> ResponseReturnValue:
    """The one page for unknown, expired and revoked links and for rounds that are not open."""
    return _message_page(
        _("This link does not open a questionnaire"),
        [
            _(
                "The link may have been replaced by a newer one: please use the link in the most "
                "recent email you received about this study."
            ),
            _("If that does not work either, please contact the coordinator who invited you."),
        ],
        404,
    )


def _message_page(heading: str, paragraphs: list[str], status: int) -> ResponseReturnValue:
    return render_template(
        "questionnaire/message.html", heading=heading, paragraphs=paragraphs
    ), status
