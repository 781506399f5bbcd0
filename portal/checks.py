"""System checks of settings that are wrong together, run by every management command that
checks (`migrate` at deploy, `check`) and by runserver."""

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register()
def check_outbox_lease(**kwargs: Any) -> list[checks.CheckMessage]:
    """A lease shorter than a send's timeout would let a second run send a message the first
    is still sending: the same SMS twice."""
    longest = max(settings.SMS_GATEWAY_TIMEOUT, settings.EMAIL_TIMEOUT)
    if longest < settings.OUTBOX_LEASE_SECONDS:
        return []
    return [
        checks.Error(
            f"OUTBOX_LEASE_SECONDS ({settings.OUTBOX_LEASE_SECONDS}) must be longer than the "
            f"longest send timeout ({longest:g} s, SMS_GATEWAY_TIMEOUT or EMAIL_TIMEOUT).",
            hint="Raise OUTBOX_LEASE_SECONDS (default 300), or lower the timeouts.",
            id="portal.E002",
        )
    ]
