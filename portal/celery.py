"""The one Celery app. Tasks are found in every installed app's tasks.py."""

import os

from celery import Celery

from .queues import declare_queues

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.on_after_configure.connect(declare_queues, weak=False)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
