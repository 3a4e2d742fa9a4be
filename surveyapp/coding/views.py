"""Routes of this feature."""

from surveyapp.coding import bp  # noqa: F401
