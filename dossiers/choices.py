from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    IN_PERSON = "in_person", _("In person")
    POSTAL = "postal", _("Public postal service")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting intake")
    REFUSED = "refused", _("Refused at intake")
    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("In progress")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Awaiting supplement")
    RESOLVED = "resolved", _("Result ready")
    REJECTED = "rejected", _("Refusal decision issued")
    RETURNED = "returned", _("Result returned")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    STOPPED = "stopped", _("Stopped")


# Statuses in which the legal clock runs (or is paused) and the dossier counts as pending.
OPEN_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS, Status.SUPPLEMENT_REQUESTED)
# Statuses with a result (a decision, either way) that has not yet been handed back.
DECIDED_STATUSES = (Status.RESOLVED, Status.REJECTED)
# The work in hand: awaiting intake or pending. The worklist opens on these, soonest due first;
# results waiting to be handed back have their own tab, and years of finished dossiers stay
# one click away.
TO_DO_STATUSES = (Status.SUBMITTED, *OPEN_STATUSES)


class Timeliness(models.TextChoices):
    IN_TIME = "in_time", _("In time")
    OVERDUE = "overdue", _("Overdue")
    EARLY = "early", _("Early")
    ON_TIME = "on_time", _("On time")
    LATE = "late", _("Late")


class Action(models.TextChoices):
    SUBMIT = "submit", _("Submit online")
    RECEIVE = "receive", _("Receive")
    ACCEPT = "accept", _("Accept")
    REFUSE = "refuse", _("Refuse")
    START = "start", _("Start processing")
    REQUEST_SUPPLEMENT = "request_supplement", _("Request a supplement")
    SUPPLEMENT = "supplement", _("Record the supplement")
    RESOLVE = "resolve", _("Resolve")
    REJECT = "reject", _("Reject")
    RETURN = "return", _("Return the result")
    WITHDRAW = "withdraw", _("Withdraw")
    STOP = "stop", _("Stop")
    APOLOGIZE = "apologize", _("Issue an apology slip")
    ASSIGN = "assign", _("Assign")
    ATTACH = "attach", _("Attach a file")
    RATE = "rate", _("Rate the service")
    IMPORT = "import", _("Import")
    OVERDUE = "overdue", _("Became overdue")
    DUE_SOON = "due_soon", _("Due soon")
    RECALCULATE = "recalculate", _("Due date recalculated")


class RatingScore(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", _("Very satisfied")
    SATISFIED = "satisfied", _("Satisfied")
    NEUTRAL = "neutral", _("Neutral")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


class AttachmentKind(models.TextChoices):
    DOCUMENT = "document", _("Dossier document")
    SUPPLEMENT = "supplement", _("Supplemented document")
    RESULT = "result", _("Result")


# How a status reads to a citizen: plain words, no jargon.
CITIZEN_STATUS = {
    Status.SUBMITTED: _("Waiting to be received by the counter"),
    Status.REFUSED: _("Not accepted"),
    Status.RECEIVED: _("Received, waiting to be processed"),
    Status.IN_PROGRESS: _("Being processed"),
    Status.SUPPLEMENT_REQUESTED: _("Documents missing: please supplement"),
    Status.RESOLVED: _("The result is ready: please collect it"),
    Status.REJECTED: _("A written answer is ready: please collect it"),
    Status.RETURNED: _("The result has been handed over"),
    Status.WITHDRAWN: _("Withdrawn"),
    Status.STOPPED: _("Processing stopped"),
}
