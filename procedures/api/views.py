from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.models import Unit
from procedures.choices import OnlineLevel, ProcedureLevel
from procedures.deadline_text import describe_step
from procedures.deadlines import DeadlineError
from procedures.filters import CatalogueFilterForm
from procedures.models import Procedure
from procedures.selectors import (
    procedure_catalogue,
    procedure_deadline,
    procedure_detail,
    units_for_procedure,
)

from .serializers import (
    DeadlineQuerySerializer,
    DeadlineSerializer,
    ProcedureDetailSerializer,
    ProcedureListSerializer,
)


class ProcedureListView(generics.ListAPIView):
    """The public catalogue. ``search`` ignores case and diacritics ("dang ky khai sinh")."""

    serializer_class = ProcedureListSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description=_("Words of the name or the code.")),
            OpenApiParameter("field", str, description=_("Field code, e.g. ho-tich.")),
            OpenApiParameter("level", str, enum=ProcedureLevel.values),
            OpenApiParameter("online_level", str, enum=OnlineLevel.values),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        form = CatalogueFilterForm(self.request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError(
                {name: list(errs) for name, errs in form.errors.items()}
            )
        return procedure_catalogue(**form.filters())


class ProcedureDetailView(generics.RetrieveAPIView):
    serializer_class = ProcedureDetailSerializer
    permission_classes = [permissions.AllowAny]

    def get_object(self) -> Procedure:
        try:
            return procedure_detail(code=self.kwargs["code"])
        except Procedure.DoesNotExist:
            raise exceptions.NotFound(
                _("No procedure has the code %(code)s.") % {"code": self.kwargs["code"]}
            ) from None


class ProcedureDeadlineView(APIView):
    """If a dossier of this procedure is received at ``unit`` at ``received_at`` (default now),
    when is its result due? With the readable trace of the computation."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[DeadlineQuerySerializer], responses=DeadlineSerializer)
    def get(self, request, code: str):
        try:
            procedure = Procedure.objects.active().get(code=code)
        except Procedure.DoesNotExist:
            raise exceptions.NotFound(
                _("No procedure has the code %(code)s.") % {"code": code}
            ) from None
        query = DeadlineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        unit = _unit_for(procedure, query.validated_data.get("unit"))
        received_at = query.validated_data.get("received_at") or timezone.now()
        try:
            deadline = procedure_deadline(procedure=procedure, unit=unit, received_at=received_at)
        except DeadlineError as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from None
        data = {
            "procedure": procedure.code,
            "unit": unit.code,
            "received_at": deadline.received_at,
            "start_at": deadline.start_at,
            "due_at": deadline.due_at,
            "trace": [
                {**step.to_dict(), "at": step.at, "text": describe_step(step)}
                for step in deadline.trace
            ],
        }
        return Response(DeadlineSerializer(data).data)


def _unit_for(procedure: Procedure, code: str | None) -> Unit:
    if code:
        try:
            return Unit.objects.get(code=code)
        except Unit.DoesNotExist:
            raise exceptions.ValidationError(
                {"unit": [_("No unit has the code %(code)s.") % {"code": code}]}
            ) from None
    unit = units_for_procedure(procedure).first() or Unit.objects.order_by("path").first()
    if unit is None:
        raise exceptions.ValidationError({"unit": [_("No unit is set up yet.")]})
    return unit
