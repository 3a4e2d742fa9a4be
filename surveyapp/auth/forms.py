from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from surveyapp.auth.services import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class AccountForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email()])
    password = PasswordField(
        _l("First password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)]
    )
    is_admin = BooleanField(_l("May manage accounts"))
