from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from procedures.selectors import catalogue_overview

from .models import Heartbeat, Membership


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"overview": catalogue_overview()})


@login_required
def account(request: HttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user=request.user).select_related("unit").order_by("unit__path")
    )
    return render(request, "portal/account.html", {"memberships": memberships})


def health(request: HttpRequest) -> JsonResponse:
    """Liveness of the database and of the background processes, for monitoring."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beats = {
        beat.name: {"at": beat.at.isoformat(), "age_seconds": int((now - beat.at).total_seconds())}
        for beat in Heartbeat.objects.all()
    }
    return JsonResponse({"database": "ok", "heartbeats": beats, "time": now.isoformat()})
