"""Serializer fields copied cheaply (portal.api.serializers.copy_fields): the same answers as
DRF's deep copies, and no field shared between two serializers."""

import copy

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from dossiers import services
from dossiers.api.serializers import DossierCreateSerializer, DossierDetailSerializer
from dossiers.tests.factories import office, received
from portal.api import serializers as portal_serializers

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_the_detail_answers_as_with_drf_s_own_copies(monkeypatch):
    o = office()
    dossier = received(o)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(o.counter)
    upload = SimpleUploadedFile("to-khai.pdf", PDF, content_type="application/pdf")
    assert (
        client.post(
            f"/api/v1/dossiers/{dossier.code}/attachments/", {"file": upload}, format="multipart"
        ).status_code
        == 201
    )
    services.start_processing(dossier=dossier, by=o.officer)
    services.request_supplement(dossier=dossier, by=o.officer, missing="Giấy khai sinh", reason="X")
    client.force_login(o.officer)

    cheap = client.get(f"/api/v1/dossiers/{dossier.code}/").json()
    monkeypatch.setattr(
        portal_serializers, "copy_fields", lambda fields: copy.deepcopy(dict(fields))
    )
    deep = client.get(f"/api/v1/dossiers/{dossier.code}/").json()
    assert cheap == deep
    assert cheap["attachments"][0]["url"].startswith("http://testserver/")  # the request's
    assert [p["reason"] for p in cheap["pauses"]] == ["X"]


def test_two_serializers_share_no_field_and_the_template_stays_unbound():
    first, second = DossierDetailSerializer(), DossierDetailSerializer()
    for name, field in first.fields.items():
        other = second.fields[name]
        assert field is not other
        assert field.parent is first and other.parent is second
    events = first.fields["events"]
    assert events.child is not second.fields["events"].child  # nested: copied deep
    assert events.child.parent is events
    template = type(first).__dict__["_model_fields_template"]
    assert all(getattr(field, "parent", None) is None for field in template.values())


def test_input_fields_are_the_serializer_s_own():
    first = DossierCreateSerializer(data={})
    second = DossierCreateSerializer(data={})
    assert not first.is_valid()
    assert first.fields["channel"] is not second.fields["channel"]
    assert first.fields["applicant"].fields["phone"].parent is first.fields["applicant"]
    assert set(first.errors) >= {"procedure", "unit", "channel", "applicant"}
    assert getattr(DossierCreateSerializer._declared_fields["channel"], "parent", None) is None
