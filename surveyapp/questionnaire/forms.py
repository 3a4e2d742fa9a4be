"""The questionnaire as a form, built from the round's stored items."""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from surveyapp.models import Item
from surveyapp.questionnaire.services import AnswerInput, Questionnaire, Rating, item_labels

NO_OPINION = "none"
MAX_TEXT = 20_000
MAX_RATIONALE = 5_000
# The names the form gives its answer fields: i12 (rating), i12_text, i12_rationale.
ANSWER_FIELD = re.compile(r"^i(\d+)(?:_(text|rationale))?$")


class ScaleField(RadioField):
    """A Likert rating: one point of the scale or "no opinion"; it may stay unanswered."""

    def pre_validate(self, form: Any) -> None:
        if self.process_errors or self.data is None:
            return
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(_l("Choose one of the points on the scale, or “No opinion”."))

    @property
    def rating(self) -> Rating | None:
        if self.data is None:
            return None
        if self.data == NO_OPINION:
            return Rating(value=None, no_opinion=True)
        return Rating(value=int(self.data))


class QuestionnaireForm(FlaskForm):
    """The fields common to every round; questionnaire_form() adds one set per item."""

    round_id = HiddenField()
    item_ids: tuple[int, ...] = ()

    def unknown_fields(self, names: Iterable[str]) -> list[str]:
        """Return the posted answer fields this round does not have (e.g. an unknown item)."""
        return sorted(name for name in names if ANSWER_FIELD.match(name) and name not in self)

    def answers(self, exclude: Container[str] = ()) -> dict[int, AnswerInput]:
        """Return what was sent per item; parts not sent, or excluded by name, are None."""
        result = {}
        for item_id in self.item_ids:
            rating, text, rationale = (
                None if name in exclude else self._fields.get(name)
                for name in (f"i{item_id}", f"i{item_id}_text", f"i{item_id}_rationale")
            )
            result[item_id] = AnswerInput(
                rating=rating.rating if isinstance(rating, ScaleField) else None,
                text=text.data if text is not None else None,
                rationale=rationale.data if rationale is not None else None,
            )
        return result

    def flag_unrated(self) -> list[Field]:
        """Mark every rating left unanswered as an error; return those fields."""
        unrated = [field for field in self if isinstance(field, ScaleField) and field.data is None]
        for field in unrated:
            field.errors = [*field.errors, _l("Choose a point on the scale, or “No opinion”.")]
        return unrated


def one_newline(text: str | None) -> str | None:
    """Store line breaks as one character: a posted form sends CR LF, which a browser's
    maxlength counted as one, so a text that fit in the box fits the limit too."""
    return text.replace("\r\n", "\n") if text else text


def questionnaire_form(
    items: Sequence[Item], *, formdata: Any = None, data: Mapping[str, Any] | None = None
) -> QuestionnaireForm:
    """Build the form of a round: a rating (and rationale) per statement, a text per question.

    Without formdata a POST reads the request's form, as every FlaskForm does.
    """
    fields: dict[str, Any] = {"item_ids": tuple(item.id for item in items)}
    for number, item in enumerate(items, start=1):
        if item.is_rating:
            choices = [
                SelectChoice(str(value), label)
                for value, label in enumerate(item_labels(item), start=1)
            ]
            choices.append(SelectChoice(NO_OPINION, _l("No opinion")))
            fields[f"i{item.id}"] = ScaleField(item.text, choices=choices)
            if item.ask_rationale:
                fields[f"i{item.id}_rationale"] = TextAreaField(
                    _l("Explain your rating of statement %(number)d (optional)", number=number),
                    filters=[one_newline],
                    validators=[
                        Length(max=MAX_RATIONALE, message=_l("Keep this under %(max)d characters."))
                    ],
                )
        else:
            fields[f"i{item.id}_text"] = TextAreaField(
                item.text,
                filters=[one_newline],
                validators=[
                    Length(max=MAX_TEXT, message=_l("Keep this under %(max)d characters."))
                ],
            )
    form_class = type("RoundForm", (QuestionnaireForm,), fields)
    if formdata is not None:
        return form_class(formdata=formdata)
    return form_class(data=data)


def initial_data(questionnaire: Questionnaire) -> dict[str, Any]:
    """Return the form's values from the answers stored so far."""
    data: dict[str, Any] = {"round_id": str(questionnaire.round.id)}
    for view in questionnaire.items:
        answer, item = view.answer, view.item
        if answer is None:
            continue
        if item.is_rating:
            if answer.no_opinion:
                data[f"i{item.id}"] = NO_OPINION
            elif answer.value is not None:
                data[f"i{item.id}"] = str(answer.value)
            data[f"i{item.id}_rationale"] = answer.rationale or ""
        else:
            data[f"i{item.id}_text"] = answer.text or ""
    return data
