"""surveyapp: Delphi studies end to end.

The web application is built by `surveyapp.app.create_app`. This package file imports
nothing, so the pure cores (`surveyapp.stats`, `surveyapp.anthology`) load without Flask.
"""
