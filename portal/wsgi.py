import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()


def _settle() -> None:
    """Load what every request needs — the URLconf and through it the views, serializers,
    services and models — then set every object made so far aside from the cyclic garbage
    collector (``gc.freeze``). They live as long as the process; left in, each full collection
    walks them all again: under intake load about a tenth of a web process's CPU
    (docs/benchmarks.md). A URLconf that cannot load now stops the worker at its start."""
    get_resolver().url_patterns  # noqa: B018 — imported for its side effect
    gc.collect()
    gc.freeze()


_settle()
