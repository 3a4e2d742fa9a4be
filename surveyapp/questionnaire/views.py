"""Routes of this feature."""

from surveyapp.questionnaire import bp  # noqa: F401
