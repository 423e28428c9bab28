# gunicorn reads this file from the working directory (the image's /app) on its own.
# The proxy in front is named by FORWARDED_ALLOW_IPS, which gunicorn (--forwarded-allow-ips) and Django
# (TRUSTED_PROXIES, config/settings/base.py) both read from the environment.
logger_class = "config.gunicorn_logging.RedactingLogger"  # no invitation or reset tokens in the access log
