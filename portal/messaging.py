"""How e-mails and SMS leave the portal: pluggable senders chosen by settings.

E-mail goes through Django's e-mail backend (console in development, SMTP in production).
SMS goes to ``SMS_BACKEND``: ``console`` (the log), ``file`` (one JSON line per message in
``SMS_FILE``) or ``http`` (a JSON POST to ``SMS_GATEWAY_URL`` with ``SMS_GATEWAY_TOKEN``, the
message's key as ``Idempotency-Key`` so that a gateway that honours it never sends twice).
"""

import http.client
import json
import logging
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The message could not be handed over now; it will be tried again."""


def send_email(*, recipient: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], fail_silently=False)
    except Exception as exc:  # SMTP errors come in many classes
        raise DeliveryError(f"e-mail: {exc}") from exc


def send_sms(*, recipient: str, body: str, key: str) -> None:
    backend = settings.SMS_BACKEND
    if backend == "console":
        logger.info("SMS to %s: %s", recipient, body)
    elif backend == "file":
        path = Path(settings.SMS_FILE)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(
                    json.dumps({"to": recipient, "body": body, "key": key}, ensure_ascii=False)
                    + "\n"
                )
        except OSError as exc:
            raise DeliveryError(f"SMS file {path}: {exc}") from exc
    elif backend == "http":
        _post_to_gateway(recipient=recipient, body=body, key=key)
    else:
        raise DeliveryError(f"unknown SMS_BACKEND {backend!r}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A gateway that answers with a redirect has not taken the message: followed, urllib would
    repeat the request as a GET without the message (and with the token) and report success."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx answer becomes an HTTPError


_gateway_opener = urllib.request.build_opener(_NoRedirects)


def _post_to_gateway(*, recipient: str, body: str, key: str) -> None:
    request = urllib.request.Request(
        settings.SMS_GATEWAY_URL,
        data=json.dumps({"to": recipient, "message": body, "sender": settings.SMS_SENDER}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
            "Idempotency-Key": key,
        },
        method="POST",
    )
    try:
        with _gateway_opener.open(request, timeout=settings.SMS_GATEWAY_TIMEOUT) as response:
            if not 200 <= response.status < 300:
                raise DeliveryError(f"SMS gateway answered {response.status}")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # OSError covers URLError, HTTPError (3xx-5xx), timeouts and refused connections;
        # HTTPException a garbled answer; ValueError an unusable SMS_GATEWAY_URL.
        raise DeliveryError(f"SMS gateway: {str(exc) or repr(exc)}") from exc
