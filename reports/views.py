"""The report pages. On a client's host: that client's report (its people and its agency's staff; the host logs
out anyone else). On the agency's host: the roll-up across the agency's clients, clients ranked by recovered
revenue, and any one client's report for the agency's people. A client of another agency is a 404, exactly like
one that does not exist."""

from decimal import Decimal
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accounts.models import Agency, Client, ClientMembership
from accounts.selectors import agencies_of_user, request_client
from accounts.services import client_url
from billing.selectors import agency_time_zone, client_prices_for_period

from . import selectors
from .briefings import briefing_frequency
from .charts import Series, bar_chart, legend
from .forms import PeriodForm
from .models import BriefingPreference
from .presenters import funnel_rows, missed_rate_rows, money, skipped_rows, text_rows
from .selectors import Period, ReturnOnCost

# --- Access -------------------------------------------------------------------------------------------------


def client_report_view(view):
    """Logged in on a client's host (HostMembershipMiddleware has already turned away anyone who does not
    belong there), with times in the client's zone."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        client = request_client(request)
        if client is None:
            raise Http404("This page lives on a client's host.")
        with timezone.override(client.timezone):
            return view(request, client, *args, **kwargs)

    return wrapper


def agency_view(view):
    """Logged in on the agency's host, as a person of at least one agency served there."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request_client(request) is not None:
            raise Http404("This page lives on the agency's host.")
        return view(request, *args, **kwargs)

    return wrapper


def _agencies(request):
    agencies = agencies_of_user(request.user)
    if getattr(request, "agency", None) is not None:
        agencies = agencies.filter(pk=request.agency.pk)
    return agencies


def agency_for_request(request) -> Agency:
    """The agency whose roll-up to show: ?agency=<slug> among the person's own, else their first; 404 if none."""
    agencies = _agencies(request).order_by("name")
    wanted = request.GET.get("agency")
    agency = agencies.filter(slug=wanted).first() if wanted else agencies.first()
    if agency is None:
        raise Http404("No such agency here.")
    return agency


def client_for_agency_staff(request, slug: str) -> Client:
    """The one way the agency's pages find a client: among the person's agencies' clients, or 404."""
    client = Client.objects.select_related("agency").filter(slug=slug, agency__in=_agencies(request)).first()
    if client is None or client.status not in (Client.Status.LIVE, Client.Status.PAUSED):
        raise Http404("No such client.")
    return client


def trend_charts(trend, before) -> list[dict]:
    """The period's trend; recovered revenue beside the period before's, bucket by bucket (the first day, week
    or month of each period together, and so on; a shorter period before leaves its last bars empty)."""
    labels = [point.label for point in trend]
    activity = [
        Series("Missed calls", "s1", [p.numbers.missed_calls for p in trend]),
        Series("Text-backs sent", "s2", [p.numbers.textbacks_sent for p in trend]),
        Series("Replies", "s3", [p.numbers.replies for p in trend]),
    ]
    before = before[: len(trend)]
    revenue = [
        Series("Recovered revenue", "s4", [p.numbers.won_value for p in trend]),
        Series(
            "The period before",
            "s5",
            [p.numbers.won_value for p in before] + [0] * (len(trend) - len(before)),
            labels=[p.label for p in before],
        ),
    ]
    return [
        {
            "title": "Missed calls, text-backs and replies",
            "svg": bar_chart(
                labels=labels, series=activity, title="Missed calls, text-backs sent and replies"
            ),
            "legend": legend(activity),
        },
        {
            "title": "Recovered revenue",
            "svg": bar_chart(labels=labels, series=revenue, title="Recovered revenue", money=True),
            "legend": legend(revenue),
        },
    ]


def _picker(request, tz: str) -> tuple[PeriodForm, Period, str]:
    form = PeriodForm(request.GET or None)
    period = form.period(tz)
    return form, period, form.chosen_bucket(period)


# --- Pages ------------------------------------------------------------------------------------------------


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def missed_rate_charts(funnel, before) -> dict:
    """The missed-call rate by hour of day and by day of the week, beside the period before's."""
    # None (no calls in that hour or on that day) stays None: the bar's title says "no calls", not "0%".
    rates = lambda values: [None if v is None else float(v) for v in values]  # noqa: E731
    by_hour = [
        Series("This period", "s1", rates(funnel.missed_rate_by_hour)),
        Series("The period before", "s5", rates(before.missed_rate_by_hour)),
    ]
    by_weekday = [
        Series("This period", "s1", rates(funnel.missed_rate_by_weekday)),
        Series("The period before", "s5", rates(before.missed_rate_by_weekday)),
    ]
    return {
        "rate_hours_chart": bar_chart(
            labels=[f"{h:02d}" for h in range(24)],
            series=by_hour,
            title="Missed-call rate by hour of day",
            height=180,
            percent=True,
        ),
        "rate_weekdays_chart": bar_chart(
            labels=WEEKDAYS,
            series=by_weekday,
            title="Missed-call rate by day of the week",
            height=180,
            percent=True,
        ),
        "rate_legend": legend(by_hour),
        "rate_table": missed_rate_rows(funnel, before),
    }


def when_missed_charts(funnel) -> dict:
    """Business hours against after hours, and missed calls by hour of day."""
    return {
        "hours_chart": bar_chart(
            labels=[f"{h:02d}" for h in range(24)],
            series=[Series("Missed calls", "s1", funnel.missed_by_hour)],
            title="Missed calls by hour of day",
            height=180,
        ),
        "split_chart": bar_chart(
            labels=["Business hours", "After hours"],
            series=[Series("Missed calls", "s1", [funnel.missed_in_hours, funnel.missed_after_hours])],
            title="Missed calls in and after business hours",
            height=180,
        ),
    }


def client_report_data(*, client: Client, period: Period, bucket: str) -> dict:
    """Every number the client's report page shows (seven queries of the public roll-ups, whatever the period
    and however many calls)."""
    previous = period.previous()
    trend, trend_before = selectors.rollup_trends(
        client_ids=[client.pk], periods=[period, previous], bucket=bucket
    )
    funnel = selectors.funnel_for_client(client=client, period=period)
    before = selectors.funnel_for_client(client=client, period=previous, reasons=False)
    selectors.set_weekdays(
        [funnel, before],
        client_ids=[client.pk],
        periods=[(period.start, period.end), (previous.start, previous.end)],
    )
    return {"funnel": funnel, "before": before, "trend": trend, "trend_before": trend_before}


def client_report_context(request, client: Client) -> dict:
    form, period, bucket = _picker(request, client.timezone)
    data = client_report_data(client=client, period=period, bucket=bucket)
    funnel = data["funnel"]
    return {
        "client": client,
        "form": form,
        "period": period,
        "previous": period.previous(),
        "bucket": bucket,
        "funnel": funnel,
        "before": data["before"],
        "roi": selectors.return_on_cost(client=client, funnel=funnel, period=period),
        "texts": text_rows(selectors.text_results(client=client, period=period)),
        "after": selectors.after_textback_for_client(client=client, period=period),
        "rows": funnel_rows(funnel, data["before"]),
        "skipped": skipped_rows(funnel.skipped_reasons),
        "estimate": money(funnel.estimated_revenue),
        "average_job_value": money(funnel.average_job_value),
        "charts": trend_charts(data["trend"], data["trend_before"]),
        **when_missed_charts(funnel),
        **missed_rate_charts(funnel, data["before"]),
        "query": request.GET.urlencode(),
    }


@client_report_view
def client_report(request, client):
    context = client_report_context(request, client)
    context["exports"] = True
    if ClientMembership.objects.filter(user=request.user, client=client).exists():
        frequency = briefing_frequency(user=request.user, client=client)
        context["briefing"] = BriefingPreference.Frequency(frequency).label
    # Where the estimate's hint sends people to set the average job value (the field's id is its anchor).
    context["settings_base"] = reverse("client-settings")
    context["settings_url"] = f"{context['settings_base']}#id_average_job_value"
    return render(request, "reports/client_report.html", context)


@agency_view
def agency_client_report(request, slug):
    client = client_for_agency_staff(request, slug)
    with timezone.override(client.timezone):
        context = client_report_context(request, client)
        context["agency_view"] = True
        # The settings page lives on the client's own host (the agency's people open the client to use it).
        context["settings_base"] = f"{client_url(client)}settings/"
        context["settings_url"] = f"{context['settings_base']}#id_average_job_value"
        return render(request, "reports/client_report.html", context)


def agency_report_data(*, agency: Agency, period: Period, bucket: str) -> dict:
    """Every number of the agency's report: its clients ranked, their funnel together against the period
    before, and the trend (from the public roll-ups; no client's schema is entered): two queries for the
    ranking, four (and two SETs) for the rest, whatever the period and however many clients."""
    ranking = selectors.rollup_client_ranking(agency=agency, start=period.start, end=period.end)
    funnels = selectors.agency_funnels(
        client_ids=[r.client.pk for r in ranking], period=period, previous=period.previous(), bucket=bucket
    )
    return {
        "ranking": ranking,
        "totals": funnels.funnel,
        "before": funnels.before,
        "trend": funnels.trend,
        "trend_before": funnels.trend_before,
    }


@agency_view
def agency_report(request):
    agency = agency_for_request(request)
    # "This month" is the agency's month, the one its bills count (billing.selectors.agency_time_zone).
    form, period, bucket = _picker(request, agency_time_zone(agency=agency))
    data = agency_report_data(agency=agency, period=period, bucket=bucket)
    ranking, totals, before = data["ranking"], data["totals"], data["before"]
    # What each client paid for the period (five queries, however many clients; billing's statements).
    costs = client_prices_for_period(clients=[r.client for r in ranking], start=period.start, end=period.end)
    priced = [r for r in ranking if costs.get(r.client.pk)]
    paid = sum((costs[r.client.pk] for r in priced), Decimal("0.00"))
    recovered_by_priced = sum((r.numbers.won_value for r in priced), Decimal("0.00"))
    # The caller's side after the text-back, each client's and together: three queries however many clients, the
    # only part of the page that reads the clients' own tables (about 1 ms a client; README "Reports").
    after = selectors.after_textback(clients=[r.client for r in ranking], period=period)
    previous = period.previous()
    context = {
        "agency": agency,
        "agencies": _agencies(request).order_by("name"),
        "form": form,
        "period": period,
        "previous": previous,
        "bucket": bucket,
        "totals": totals,
        "before": before,
        "rows": funnel_rows(totals, before),
        "skipped": skipped_rows(totals.skipped_reasons),
        **when_missed_charts(totals),
        **missed_rate_charts(totals, before),
        "ranking": [
            {
                "client": r.client,
                "numbers": r.numbers,
                "estimate": money(
                    None
                    if r.client.average_job_value is None
                    else r.client.average_job_value * r.numbers.booked_pending
                ),
                "returned": ReturnOnCost.times(r.numbers.won_value, costs.get(r.client.pk)),
            }
            for r in ranking
        ],
        "charts": trend_charts(data["trend"], data["trend_before"]),
        "after": selectors.after_textback_total(after.values()),
        "after_by_client": [(r.client, after[r.client.pk]) for r in ranking],
        "query": request.GET.urlencode(),
        # Across the clients with a price: what they recovered against what they paid.
        "returned": {
            "clients": len(priced),
            "recovered": recovered_by_priced,
            "paid": paid,
            "multiple": ReturnOnCost.times(recovered_by_priced, paid),
        },
    }
    return render(request, "reports/agency_report.html", context)
