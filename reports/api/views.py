"""The monthly report API (DESIGN.md §5): the form as JSON, or as an XLSX or CSV download.

``?format=xlsx`` and ``?format=csv`` are DRF's own format suffix: the view lists a renderer for
each, so content negotiation picks them (``Accept: text/csv`` works too) instead of answering
404. Errors are JSON whatever format was asked for.
"""

from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..exports import (
    XLSX_CONTENT_TYPE,
    report_csv,
    report_filename,
    report_workbook,
)
from ..forms import ReportForm
from ..periods import BASES
from ..selectors import GROUPINGS, monthly_statistics, report_units
from .serializers import MonthlyReportSerializer


class XLSXRenderer(BaseRenderer):
    """Passes the workbook's bytes through."""

    media_type = XLSX_CONTENT_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        return data


class CSVRenderer(BaseRenderer):
    """Passes the CSV's bytes (UTF-8 with a byte-order mark) through."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        return data


_PARAMETERS = [
    OpenApiParameter(
        "unit",
        str,
        required=True,
        description="Agency code of a unit you manage, or of a unit below one.",
    ),
    OpenApiParameter(
        "period",
        str,
        description=(
            "2026-10 (a month), 2026-Q3, 2026-H1, 2026, or 2026-01-01..2026-08-14. Required "
            "unless from is given. A period that has not started is refused."
        ),
    ),
    OpenApiParameter(
        "basis",
        str,
        enum=list(BASES),
        description="official (default): months run from the 15th to the 14th (Decree "
        "09/2019/NĐ-CP); calendar: calendar months.",
    ),
    OpenApiParameter(
        "group_by",
        str,
        enum=list(GROUPINGS),
        description="unit (default): the unit's own dossiers, then each unit below it, with "
        "commune_subtotal; field: one row per field.",
    ),
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description="First day of any range (e.g. the year to date); wins over period.",
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day of the range (default today)."),
    OpenApiParameter(
        "format",
        str,
        enum=["json", "xlsx", "csv"],
        description="json (default); xlsx: the official form as a book; csv: UTF-8 with a "
        "byte-order mark, one header row. Accept: text/csv works too.",
    ),
]


class MonthlyReportView(APIView):
    """Biểu số II.06a/VPCP/KSTT for a unit's subtree and a period: rows by unit or by field,
    the total and the indicators. Managers of the unit (or of a unit above it) only.
    ``format=xlsx`` gives the official layout, ``format=csv`` one header row."""

    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, XLSXRenderer, CSVRenderer]

    @extend_schema(
        parameters=_PARAMETERS,
        responses={
            (200, "application/json"): MonthlyReportSerializer,
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="The official form as an XLSX book."
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="UTF-8 with a byte-order mark, one header row."
            ),
            400: OpenApiResponse(
                description='code "invalid": fields names what is wrong (unit, period, basis, '
                "group_by, from, to)."
            ),
            403: OpenApiResponse(
                description='code "permission_denied": not a manager, or a unit outside the '
                "units you manage."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        units = report_units(request.user)
        if not (request.user.is_superuser or units.exists()):
            raise exceptions.PermissionDenied(_("The monthly report is for managers."))
        form = ReportForm(request.query_params, units=units, today=timezone.localdate())
        if not form.is_valid():
            if form.outside_unit():
                raise exceptions.PermissionDenied(form.errors["unit"][0])
            raise exceptions.ValidationError(
                {name: list(errors) for name, errors in form.errors.items()}
            )
        unit, period, group_by = form.report_args()
        report = monthly_statistics(unit=unit, period=period, group_by=group_by)
        wanted = request.accepted_renderer.format
        if wanted == "xlsx":
            return self._download(report_workbook(report), report_filename(report, "xlsx"))
        if wanted == "csv":
            return self._download(report_csv(report), report_filename(report, "csv"))
        return Response(report.as_json())

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple:
        """An unknown ``format`` is a bad parameter (400), not a missing page (DRF's 404)."""
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            raise exceptions.ValidationError(
                {"format": [_("The report comes as json, xlsx or csv.")]}
            ) from None

    @staticmethod
    def _download(content: bytes, filename: str) -> Response:
        response = Response(content)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def handle_exception(self, exc: Exception) -> Response:
        """Errors are JSON, also for ?format=xlsx or csv."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
