"""A view for bench/load.py only: the cheapest page Django can serve (no database, no cache, no
template), the yardstick of the public lookup's throughput. Wired in portal/urls.py only when
BENCH_MINIMAL_VIEW=1 is set in the environment, which production never does."""

from django.http import HttpRequest, HttpResponse


def minimal(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
