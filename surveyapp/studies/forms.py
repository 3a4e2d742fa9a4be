from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from surveyapp.stats import RuleError, parse_rule
from surveyapp.studies.services import MAX_LOGO_BYTES

LANGUAGE_CHOICES = [SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")]


class StudyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    subtitle = StringField(_l("Subtitle"), validators=[Optional(), Length(max=200)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    language = SelectField(_l("Language of the study"), choices=LANGUAGE_CHOICES, default="nl")
    footer_text = StringField(
        _l("Footer text of the anthology"), validators=[Optional(), Length(max=200)]
    )
    introduction = TextAreaField(_l("Introduction"), validators=[Optional()])


class LogoForm(FlaskForm):
    logo = FileField(
        _l("Logo for the anthology's cover"),
        validators=[FileRequired(), FileSize(max_size=MAX_LOGO_BYTES)],
    )


class ShareForm(FlaskForm):
    email = EmailField(_l("Email address of a colleague"), validators=[DataRequired(), Email()])


class ThemesForm(FlaskForm):
    themes = TextAreaField(
        _l("Chapters and sections, one per line"),
        validators=[DataRequired()],
        render_kw={"rows": 6, "placeholder": "1 Trends en knelpunten\n1.3 Beleid vs. uitvoering"},
    )


class PanelForm(FlaskForm):
    emails = TextAreaField(
        _l("Email addresses"), validators=[DataRequired()], render_kw={"rows": 8}
    )
    group = StringField(_l("Panel group"), validators=[Optional(), Length(max=80)])
    language = SelectField(_l("Language of the emails"), choices=LANGUAGE_CHOICES, default="nl")


class RulesForm(FlaskForm):
    consensus_rule = StringField(_l("Consensus rule"), validators=[DataRequired(), Length(max=200)])
    agree_points = IntegerField(
        _l("Points in the agreement band"), validators=[InputRequired(), NumberRange(1, 4)]
    )
    quantile_method = SelectField(
        _l("Quantile method"),
        choices=[
            SelectChoice("linear", _l("linear (Hyndman–Fan type 7, numpy and R default)")),
            SelectChoice("weibull", _l("weibull (Hyndman–Fan type 6, as SPSS)")),
        ],
    )
    stability_threshold = DecimalField(
        _l("Stable when the distribution changes at most (%)"),
        validators=[InputRequired(), NumberRange(0, 100)],
    )
    retire_stable = BooleanField(_l("Retire stable items too, not only items at consensus"))
    round_cap = IntegerField(_l("At most this many rounds"), validators=[NumberRange(1, 10)])
    min_group_size = IntegerField(
        _l("Smallest panel group shown on its own"), validators=[NumberRange(2, 100)]
    )

    def validate_consensus_rule(self, field: StringField) -> None:
        try:
            parse_rule(field.data)
        except RuleError as error:
            raise ValidationError(str(error)) from error


class FeedbackForm(FlaskForm):
    """How the panel's feedback looks: no consensus rule, so it may change between rounds."""

    feedback_by_group = BooleanField(_l("Also show the feedback per panel group"))


class RoundForm(FlaskForm):
    title = StringField(_l("Title of the round"), validators=[Optional(), Length(max=200)])
    introduction = TextAreaField(
        _l("Introduction for the panel"), validators=[Optional()], render_kw={"rows": 3}
    )


class CloseTimeForm(FlaskForm):
    closes_at = DateTimeLocalField(
        _l("Closes on"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


class ItemForm(FlaskForm):
    kind = RadioField(
        _l("Kind of item"),
        choices=[
            SelectChoice("open", _l("Open question")),
            SelectChoice("likert", _l("Statement to rate")),
        ],
        default="open",
    )
    text = TextAreaField(_l("Question or statement"), validators=[DataRequired()])
    section = SelectField(_l("Section"), coerce=int, validators=[Optional()])
    scale_points = SelectField(
        _l("Scale"),
        coerce=int,
        choices=[
            SelectChoice(5, _l("5 points")),
            SelectChoice(7, _l("7 points")),
            SelectChoice(9, _l("9 points")),
        ],
        default=5,
    )
