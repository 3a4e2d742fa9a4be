from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from surveyapp.coding import bp
from surveyapp.coding import services as coding
from surveyapp.coding.forms import QuoteForm, QuoteMoveForm, StatementForm
from surveyapp.extensions import db
from surveyapp.models import Item, ItemKind, Quote, Theme
from surveyapp.studies.services import StudyError, sections_of
from surveyapp.studies.views import get_study


@bp.get("/")
@login_required
def index(study_id: int):
    study = get_study(study_id)
    return render_template("coding/index.html", study=study, items=coding.open_items(study))


def _get_open_item(study_id: int, item_id: int) -> tuple:
    study = get_study(study_id)
    item = db.session.get(Item, item_id)
    if item is None or item.round.study_id != study.id or item.kind is not ItemKind.OPEN:
        abort(404)
    return study, item


def _render_item(study, item, statement_form=None, status=200):
    answers = coding.answers_to_code(item)
    sections = sections_of(study)
    section_choices = [SelectChoice(s.id, s.label) for s in sections]
    statement_form = statement_form or StatementForm(
        section=item.section_id or (sections[0].id if sections else 0)
    )
    statement_form.section.choices = [SelectChoice(0, _("(no section)")), *section_choices]
    statement_form.sources.choices = [SelectChoice(a.id, str(a.id)) for a in answers]
    quotes = coding.quotes_by_answer(answers)
    return render_template(
        "coding/item.html",
        study=study,
        item=item,
        answers=answers,
        quotes=quotes,
        quote_groups=coding.quote_groups(list(quotes.values())),
        sections=sections,
        statement_form=statement_form,
    ), status


@bp.get("/items/<int:item_id>")
@login_required
def item(study_id: int, item_id: int):
    study, item = _get_open_item(study_id, item_id)
    return _render_item(study, item)


@bp.post("/items/<int:item_id>/quotes")
@login_required
def save_quote(study_id: int, item_id: int):
    study, item = _get_open_item(study_id, item_id)
    form = QuoteForm()
    form.section.choices = [SelectChoice(s.id, s.label) for s in sections_of(study)]
    answer = next(
        (a for a in coding.answers_to_code(item) if str(a.id) == form.answer_id.data), None
    )
    if answer is None or not form.validate_on_submit():
        flash(_("The quote was not saved: give it a text and a section."), "error")
        return redirect(url_for("coding.item", study_id=study.id, item_id=item.id))
    section = next(s for s in study.themes if s.id == form.section.data)
    try:
        coding.save_quote(
            current_user, answer, section=section, text=form.text.data, included=form.included.data
        )
    except StudyError as error:
        db.session.rollback()
        flash(_("The quote was not saved: %(reason)s.", reason=error), "error")
        return redirect(url_for("coding.item", study_id=study.id, item_id=item.id))
    db.session.commit()
    flash(_("Quote saved in %(section)s.", section=section.label), "success")
    return redirect(
        url_for("coding.item", study_id=study.id, item_id=item.id, _anchor=f"answer-{answer.id}")
    )


@bp.post("/items/<int:item_id>/quotes/<int:quote_id>/move")
@login_required
def move_quote(study_id: int, item_id: int, quote_id: int):
    study, item = _get_open_item(study_id, item_id)
    quote = db.session.get(Quote, quote_id)
    if quote is None or quote.section.study_id != study.id:
        abort(404)
    form = QuoteMoveForm()
    if not form.validate_on_submit():
        abort(400)
    if coding.move_quote(current_user, quote, form.direction.data):
        db.session.commit()
        flash(
            _("Quote moved up.") if form.direction.data == "up" else _("Quote moved down."),
            "success",
        )
    anchor = f"order-quote-{quote.id}"
    return redirect(url_for("coding.item", study_id=study.id, item_id=item.id, _anchor=anchor))


@bp.post("/items/<int:item_id>/quote-order/<int:section_id>/<int:group>/alphabetical")
@login_required
def reset_quote_order(study_id: int, item_id: int, section_id: int, group: int):
    study, item = _get_open_item(study_id, item_id)
    section = db.session.get(Theme, section_id)
    if section is None or section.study_id != study.id or section.is_chapter:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    coding.reset_quote_order(current_user, section, group)
    db.session.commit()
    flash(
        _("The quotes in %(section)s are in alphabetical order again.", section=section.label),
        "success",
    )
    return redirect(
        url_for(
            "coding.item",
            study_id=study.id,
            item_id=item.id,
            _anchor=f"order-{section.id}-{group}",
        )
    )


@bp.post("/items/<int:item_id>/statements")
@login_required
def create_statement(study_id: int, item_id: int):
    study, item = _get_open_item(study_id, item_id)
    form = StatementForm()
    answers = {a.id: a for a in coding.answers_to_code(item)}
    form.section.choices = [
        SelectChoice(0, ""),
        *(SelectChoice(s.id, s.label) for s in sections_of(study)),
    ]
    form.sources.choices = [SelectChoice(answer_id, str(answer_id)) for answer_id in answers]
    if not form.validate_on_submit():
        return _render_item(study, item, form, status=400)
    section = next((s for s in study.themes if s.id == form.section.data), None)
    try:
        statement = coding.create_statement(
            current_user,
            study,
            text=form.text.data,
            section=section,
            scale_points=form.scale_points.data,
            sources=[answers[answer_id] for answer_id in form.sources.data],
        )
    except StudyError as error:
        db.session.rollback()
        form.text.errors.append(str(error))
        return _render_item(study, item, form, status=400)
    db.session.commit()
    flash(
        ngettext(
            "Statement added to round %(n)d, linked to %(num)d answer.",
            "Statement added to round %(n)d, linked to %(num)d answers.",
            len(form.sources.data),
            n=statement.round.number,
        ),
        "success",
    )
    return redirect(url_for("coding.item", study_id=study.id, item_id=item.id))
