"""Routes of this feature."""

from surveyapp.publishing import bp  # noqa: F401
