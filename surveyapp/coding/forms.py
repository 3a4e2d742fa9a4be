from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired


class QuoteForm(FlaskForm):
    answer_id = HiddenField(validators=[InputRequired()])
    section = SelectField(_l("Section"), coerce=int, validators=[InputRequired()])
    text = TextAreaField(_l("Quote text"), validators=[DataRequired()], render_kw={"rows": 3})
    included = BooleanField(_l("In the anthology"), default=True)


class StatementForm(FlaskForm):
    text = TextAreaField(_l("Statement for the next round"), validators=[DataRequired()])
    section = SelectField(_l("Section"), coerce=int)
    scale_points = SelectField(
        _l("Scale"),
        coerce=int,
        choices=[SelectChoice(5, "5"), SelectChoice(7, "7"), SelectChoice(9, "9")],
        default=5,
    )
    sources = SelectMultipleField(_l("From the answers"), coerce=int)


class QuoteMoveForm(FlaskForm):
    """One place up or down in the quote's group; the buttons carry the direction."""

    direction = SelectField(
        choices=[SelectChoice("up", "up"), SelectChoice("down", "down")],
        validators=[InputRequired()],
    )
