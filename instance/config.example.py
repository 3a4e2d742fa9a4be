# Copy to instance/config.py and adjust; SURVEYAPP_* environment variables override these.
# SECRET_KEY = "a long random string: python -c 'import secrets; print(secrets.token_hex(32))'"
# DATABASE_URL = "postgresql://delphi:secret@localhost/delphi"   # default: SQLite in instance/
# BASE_URL = "https://delphi.example.nl"      # used in the personal links in emails
# REPORTS_DIR = "/var/lib/surveyapp/reports"
# MAIL_BACKEND = "smtp"                        # or "file" (writes .eml files, for demos)
# MAIL_SENDER = "Delphi-studie <delphi@example.nl>"
# SMTP_HOST = "smtp.example.nl"
# SMTP_PORT = 587
# SMTP_STARTTLS = True
# SMTP_USERNAME = "delphi"
# SMTP_PASSWORD = "..."
# RATELIMIT_STORAGE_URI = "redis://localhost:6379"   # with several workers
