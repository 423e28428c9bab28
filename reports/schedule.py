"""The reports app's beat entries, added to the Celery app's schedule when Django starts (beat starts Django
before it reads its schedule), so the shared settings file needs no line for them."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # After midnight in the Americas, before anyone opens a dashboard.
    "reports-rebuild-rollups": {
        "task": "reports.tasks.rebuild_rollups",
        "schedule": crontab(hour=9, minute=15),
    },
    # The 1st of the month: last month is over in every time zone we serve by 14:00 UTC.
    "reports-monthly-emails": {
        "task": "reports.tasks.send_monthly_reports",
        "schedule": crontab(day_of_month=1, hour=14, minute=0),
    },
}


def install() -> None:
    from config.celery_app import app

    app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}
