import io
from datetime import UTC

from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from surveyapp.anthology.validation import logo_type
from surveyapp.extensions import db
from surveyapp.models import (
    IllegalTransition,
    ItemKind,
    Round,
    RoundState,
    RuleFixedError,
    Study,
    utcnow,
)
from surveyapp.models.base import DISPLAY_ZONE
from surveyapp.studies import bp
from surveyapp.studies import services as studies
from surveyapp.studies.forms import (
    CloseTimeForm,
    FeedbackForm,
    ItemForm,
    LogoForm,
    PanelForm,
    RoundForm,
    RulesForm,
    ShareForm,
    StudyForm,
    ThemesForm,
)

# What a round's state is called on the coordinator's pages. Spelled out here (not as
# _(round.state.value) in a template) so that the catalog's extraction finds every label.
STATE_LABELS = {
    RoundState.DRAFT: _l("draft"),
    RoundState.OPEN: _l("open"),
    RoundState.CLOSED: _l("closed"),
}


@bp.app_template_filter("state_label")
def state_label(state: RoundState) -> str:
    """The translated name of a round state: {{ round.state|state_label }}."""
    return str(STATE_LABELS[state])


def get_study(study_id: int) -> Study:
    """Return the study if the logged-in coordinator may manage it; 404 otherwise."""
    study = db.session.get(Study, study_id)
    if study is None or not studies.can_manage(current_user, study):
        abort(404)
    return study


def get_round(study: Study, number: int) -> Round:
    round_ = next((r for r in study.rounds if r.number == number), None)
    if round_ is None:
        abort(404)
    return round_


@bp.get("/")
@login_required
def index():
    return render_template("studies/index.html", studies=studies.visible_studies(current_user))


@bp.route("/studies/new", methods=["GET", "POST"])
@login_required
def new():
    form = StudyForm()
    if form.validate_on_submit():
        fields = {name: form[name].data or "" for name in studies.EDITABLE_FIELDS}
        study = studies.create_study(current_user, **fields)
        db.session.commit()
        flash(_("Study created. Next: add its chapters and sections."), "success")
        return redirect(url_for("studies.show", study_id=study.id))
    return render_template("studies/new.html", form=form)


@bp.route("/studies/<int:study_id>/edit", methods=["GET", "POST"])
@login_required
def edit(study_id: int):
    study = get_study(study_id)
    form = StudyForm(obj=study)
    if form.validate_on_submit():
        studies.update_study(
            current_user,
            study,
            **{name: form[name].data or "" for name in studies.EDITABLE_FIELDS},
        )
        db.session.commit()
        flash(_("The study's details are saved."), "success")
        return redirect(url_for("studies.show", study_id=study.id))
    return render_template("studies/new.html", form=form, study=study, logo_form=LogoForm())


@bp.post("/studies/<int:study_id>/logo")
@login_required
def upload_logo(study_id: int):
    study = get_study(study_id)
    form = LogoForm()
    if not form.validate_on_submit():
        messages = [m for errors in form.errors.values() for m in errors]
        flash(_("The logo was not saved: %(reason)s", reason=" ".join(messages)), "error")
        return redirect(url_for("studies.edit", study_id=study.id))
    try:
        studies.set_logo(current_user, study, form.logo.data.read())
    except studies.StudyError as error:
        db.session.rollback()
        flash(_("The logo was not saved: %(reason)s.", reason=error), "error")
        return redirect(url_for("studies.edit", study_id=study.id))
    db.session.commit()
    flash(_("Logo saved; it appears on the next anthology's cover."), "success")
    return redirect(url_for("studies.edit", study_id=study.id))


@bp.post("/studies/<int:study_id>/logo/remove")
@login_required
def remove_logo(study_id: int):
    study = get_study(study_id)
    studies.set_logo(current_user, study, None)
    db.session.commit()
    flash(_("Logo removed."), "success")
    return redirect(url_for("studies.edit", study_id=study.id))


@bp.get("/studies/<int:study_id>/logo")
@login_required
def logo(study_id: int):
    study = get_study(study_id)
    if study.logo is None:
        abort(404)
    return send_file(io.BytesIO(study.logo), mimetype=logo_type(study.logo))


@bp.get("/studies/<int:study_id>")
@login_required
def show(study_id: int):
    study = get_study(study_id)
    progress = {
        r.id: studies.round_progress(r) for r in study.rounds if r.state is not RoundState.DRAFT
    }
    return render_template(
        "studies/show.html",
        study=study,
        progress=progress,
        themes_form=ThemesForm(),
        round_form=RoundForm(),
        share_form=ShareForm(),
        sections=studies.sections_of(study),
    )


@bp.post("/studies/<int:study_id>/coordinators")
@login_required
def share(study_id: int):
    study = get_study(study_id)
    form = ShareForm()
    if not form.validate_on_submit():
        flash(_("Give the email address of a colleague's account."), "error")
        return redirect(url_for("studies.show", study_id=study.id))
    try:
        colleague = studies.share_study(current_user, study, form.email.data)
    except studies.StudyError as error:
        db.session.rollback()
        flash(_("Nobody was added: %(reason)s.", reason=error), "error")
        return redirect(url_for("studies.show", study_id=study.id))
    db.session.commit()
    flash(_("%(email)s can now manage this study.", email=colleague.email), "success")
    return redirect(url_for("studies.show", study_id=study.id))


@bp.post("/studies/<int:study_id>/themes")
@login_required
def add_themes(study_id: int):
    study = get_study(study_id)
    form = ThemesForm()
    if not form.validate_on_submit():
        flash(_("Type at least one line such as '1.3 Beleid vs. uitvoering'."), "error")
        return redirect(url_for("studies.show", study_id=study.id))
    try:
        added = studies.add_themes(current_user, study, form.themes.data)
    except studies.StudyError as error:
        db.session.rollback()
        flash(_("Nothing was added: %(reason)s.", reason=error), "error")
        return redirect(url_for("studies.show", study_id=study_id))
    db.session.commit()
    flash(
        ngettext(
            "%(num)d chapter or section added.", "%(num)d chapters or sections added.", len(added)
        ),
        "success",
    )
    return redirect(url_for("studies.show", study_id=study.id))


@bp.route("/studies/<int:study_id>/panel", methods=["GET", "POST"])
@login_required
def panel(study_id: int):
    study = get_study(study_id)
    form = PanelForm()
    if form.validate_on_submit():
        try:
            result = studies.add_panel_members(
                current_user, study, form.emails.data, form.group.data or "", form.language.data
            )
        except studies.StudyError as error:
            db.session.rollback()
            form.emails.errors.append(_("Nothing was added: %(reason)s.", reason=error))
        else:
            db.session.commit()
            flash(
                ngettext("%(num)d member added.", "%(num)d members added.", result.added)
                + " "
                + ngettext(
                    "%(num)d was on the panel already.",
                    "%(num)d were on the panel already.",
                    result.already_there,
                ),
                "success",
            )
            return redirect(url_for("studies.panel", study_id=study.id))
    return render_template(
        "studies/panel.html", study=study, form=form, rows=studies.panel_overview(study)
    )


@bp.post("/studies/<int:study_id>/panel/<int:member_id>/revoke")
@login_required
def revoke_member(study_id: int, member_id: int):
    study = get_study(study_id)
    member = next((m for m in study.members if m.id == member_id), None)
    if member is None:
        abort(404)
    studies.revoke_member(current_user, member, utcnow())
    db.session.commit()
    flash(
        _("The link of %(email)s no longer works; no more mail goes out.", email=member.email),
        "success",
    )
    return redirect(url_for("studies.panel", study_id=study.id))


@bp.post("/studies/<int:study_id>/rounds/<int:number>/remind")
@login_required
def remind(study_id: int, number: int):
    study = get_study(study_id)
    round_ = get_round(study, number)
    try:
        sent = studies.send_reminders(
            current_user, round_, current_app.config["BASE_URL"], utcnow()
        )
    except studies.StudyError as error:
        db.session.rollback()
        flash(_("No reminders were sent: %(reason)s.", reason=error), "error")
    else:
        db.session.commit()
        flash(
            ngettext("%(num)d reminder is queued.", "%(num)d reminders are queued.", sent),
            "success",
        )
    return redirect(url_for("studies.round_page", study_id=study.id, number=number))


@bp.route("/studies/<int:study_id>/rules", methods=["GET", "POST"])
@login_required
def rules(study_id: int):
    study = get_study(study_id)
    form = RulesForm(obj=study)
    if form.validate_on_submit():
        try:
            studies.set_rules(
                current_user,
                study,
                consensus_rule=form.consensus_rule.data,
                agree_points=form.agree_points.data,
                quantile_method=form.quantile_method.data,
                stability_threshold=float(form.stability_threshold.data),
                retire_stable=form.retire_stable.data,
                round_cap=form.round_cap.data,
                min_group_size=form.min_group_size.data,
            )
        except RuleFixedError:
            db.session.rollback()
            flash(_("The rules were fixed when round 1 opened and cannot change."), "error")
            return redirect(url_for("studies.rules", study_id=study.id))
        db.session.commit()
        flash(_("Consensus and stop rules saved."), "success")
        return redirect(url_for("studies.show", study_id=study.id))
    feedback_form = FeedbackForm(obj=study, formdata=None)
    return render_template(
        "studies/rules.html", study=study, form=form, feedback_form=feedback_form
    )


@bp.route("/studies/<int:study_id>/feedback", methods=["POST"])
@login_required
def feedback_setting(study_id: int):
    """Save how the feedback looks; kept apart from the rules, which round 1 fixes."""
    study = get_study(study_id)
    form = FeedbackForm()
    if form.validate_on_submit():
        studies.set_feedback_by_group(current_user, study, form.feedback_by_group.data)
        db.session.commit()
        flash(_("Feedback setting saved."), "success")
    else:
        flash(_("The feedback setting was not saved; please try again."), "error")
    return redirect(url_for("studies.rules", study_id=study.id))


@bp.post("/studies/<int:study_id>/rounds")
@login_required
def create_round(study_id: int):
    study = get_study(study_id)
    form = RoundForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        round_ = studies.create_round(
            current_user, study, form.title.data or "", form.introduction.data or ""
        )
    except studies.StudyError as error:
        db.session.rollback()
        flash(_("No round was added: %(reason)s.", reason=error), "error")
        return redirect(url_for("studies.show", study_id=study.id))
    db.session.commit()
    return redirect(url_for("studies.round_page", study_id=study.id, number=round_.number))


@bp.get("/studies/<int:study_id>/rounds/<int:number>")
@login_required
def round_page(study_id: int, number: int):
    study = get_study(study_id)
    round_ = get_round(study, number)
    close_form = CloseTimeForm()
    if round_.closes_at is not None:
        close_form.closes_at.data = round_.closes_at.astimezone(DISPLAY_ZONE).replace(tzinfo=None)
    return render_template(
        "studies/round.html",
        study=study,
        round=round_,
        form=_item_form(study),
        close_form=close_form,
        progress=studies.round_progress(round_),
    )


def _item_form(study: Study) -> ItemForm:
    form = ItemForm()
    form.section.choices = [SelectChoice(0, _("(no section)"))] + [
        (s.id, s.label) for s in studies.sections_of(study)
    ]
    return form


@bp.post("/studies/<int:study_id>/rounds/<int:number>/items")
@login_required
def add_item(study_id: int, number: int):
    study = get_study(study_id)
    round_ = get_round(study, number)
    form = _item_form(study)
    if form.validate_on_submit():
        section = next((s for s in study.themes if s.id == form.section.data), None)
        try:
            studies.add_item(
                current_user,
                round_,
                kind=ItemKind(form.kind.data),
                text=form.text.data,
                section=section,
                scale_points=form.scale_points.data,
            )
        except studies.StudyError as error:
            db.session.rollback()
            flash(_("The item was not added: %(reason)s.", reason=error), "error")
            return redirect(url_for("studies.round_page", study_id=study.id, number=number))
        else:
            db.session.commit()
            flash(_("Item added."), "success")
            return redirect(url_for("studies.round_page", study_id=study.id, number=number))
    return render_template(
        "studies/round.html",
        study=study,
        round=round_,
        form=form,
        close_form=CloseTimeForm(),
        progress=studies.round_progress(round_),
    ), 400


@bp.post("/studies/<int:study_id>/rounds/<int:number>/open")
@login_required
def open_round(study_id: int, number: int):
    study = get_study(study_id)
    round_ = get_round(study, number)
    try:
        invited = studies.open_round(current_user, round_, current_app.config["BASE_URL"], utcnow())
    except IllegalTransition:
        db.session.rollback()
        flash(_("The round was not opened: only a draft round with items can open."), "error")
        return redirect(url_for("studies.round_page", study_id=study.id, number=number))
    except studies.StudyError as error:
        db.session.rollback()
        flash(_("The round was not opened: %(reason)s.", reason=error), "error")
        return redirect(url_for("studies.round_page", study_id=study.id, number=number))
    db.session.commit()
    flash(
        ngettext(
            "Round %(n)d is open; %(num)d invitation is queued.",
            "Round %(n)d is open; %(num)d invitations are queued.",
            invited,
            n=number,
        ),
        "success",
    )
    return redirect(url_for("studies.round_page", study_id=study.id, number=number))


@bp.post("/studies/<int:study_id>/rounds/<int:number>/close-time")
@login_required
def set_close_time(study_id: int, number: int):
    study = get_study(study_id)
    round_ = get_round(study, number)
    form = CloseTimeForm()
    if not form.validate_on_submit():
        flash(_("Give a date and time like 2026-12-31 17:00."), "error")
        return redirect(url_for("studies.round_page", study_id=study.id, number=number))
    closes_at = form.closes_at.data
    if closes_at is not None:  # typed in the Netherlands' time, stored in UTC
        closes_at = closes_at.replace(tzinfo=DISPLAY_ZONE).astimezone(UTC)
    try:
        studies.set_close_time(current_user, round_, closes_at, utcnow())
    except studies.StudyError as error:
        db.session.rollback()
        flash(_("The closing time was not changed: %(reason)s.", reason=error), "error")
        return redirect(url_for("studies.round_page", study_id=study.id, number=number))
    db.session.commit()
    flash(_("Closing time saved.") if closes_at else _("The round has no closing time."), "success")
    return redirect(url_for("studies.round_page", study_id=study.id, number=number))


@bp.post("/studies/<int:study_id>/rounds/<int:number>/close")
@login_required
def close_round(study_id: int, number: int):
    study = get_study(study_id)
    round_ = get_round(study, number)
    try:
        studies.close_round(current_user, round_, utcnow())
    except IllegalTransition:
        db.session.rollback()
        flash(_("The round was not closed: only an open round can close."), "error")
        return redirect(url_for("studies.round_page", study_id=study.id, number=number))
    db.session.commit()
    flash(_("Round %(n)d is closed. Answers are final.", n=number), "success")
    return redirect(url_for("studies.round_page", study_id=study.id, number=number))
