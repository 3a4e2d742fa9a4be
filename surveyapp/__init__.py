"""surveyapp: Delphi studies end to end."""
