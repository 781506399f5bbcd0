"""Uploads: recognised by their content, size-limited, stored under generated names, handed out
as downloads to those who may see the dossier, and never reachable by a public address."""

import re
from datetime import datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import override
from rest_framework.test import APIClient

from dossiers import services
from dossiers.models import Attachment
from dossiers.services.attachments import (
    attachment_disposition,
    check_upload,
    download_name,
    safe_file_name,
)
from portal import settings as configured
from portal.tests.factories import UserFactory
from procedures.deadlines import VN_TZ

from .factories import office, received, submitted

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
STORED = re.compile(r"^dossiers/\d+/[0-9a-f]{32}\.(pdf|png|jpg)$")


@pytest.fixture
def monday(time_machine):
    time_machine.move_to(datetime(2026, 3, 9, 9, 0, tzinfo=VN_TZ), tick=False)
    return time_machine


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def refusal(file) -> str:
    """The message of a refused upload, in English."""
    with override("en"), pytest.raises(ValidationError) as caught:
        check_upload(file)
    return caught.value.messages[0]


# --- Content ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "declared", "expected"),
    [
        ("to-khai.pdf", PDF, "application/pdf", "application/pdf"),
        ("anh.PNG", PNG, "image/png", "image/png"),
        ("anh.jpeg", JPEG, "image/jpeg", "image/jpeg"),
        ("anh.jpg", JPEG, "image/pjpeg", "image/jpeg"),
        # Clients that declare nothing useful: the content decides.
        ("to-khai.pdf", PDF, "application/octet-stream", "application/pdf"),
        ("to-khai.pdf", PDF, "", "application/pdf"),
    ],
)
def test_pdf_png_and_jpeg_are_recognised_by_their_content(name, content, declared, expected):
    assert check_upload(upload(name, content, declared)) == expected


@pytest.mark.parametrize(
    ("name", "content", "declared", "message"),
    [
        ("trang.pdf", b"<html><script>alert(1)</script>", "application/pdf", "Only PDF"),
        ("virus.pdf", b"MZ\x90\x00 not a document", "application/pdf", "Only PDF"),
        ("anh.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", "Only PDF"),
        # A PDF header further in is not a PDF here: the first bytes decide.
        ("to-khai.pdf", b"\n\n%PDF-1.4", "application/pdf", "Only PDF"),
        ("anh.pdf", PNG, "application/pdf", "name says “.pdf” but its content is PNG"),
        ("to-khai.png", PDF, "image/png", "name says “.png” but its content is PDF"),
        ("to-khai", PDF, "application/pdf", "has no extension"),
        ("to-khai.pdf", PDF, "image/png", "sent as “image/png” but its content is PDF"),
        ("to-khai.pdf", PDF, "text/html", "sent as “text/html” but its content is PDF"),
        ("anh.png", PNG, "image/svg+xml", "sent as “image/svg+xml” but its content is PNG"),
        ("anh.jpg", JPEG, "application/pdf", "sent as “application/pdf”"),
    ],
)
def test_a_mismatch_of_content_name_or_declared_type_is_refused(name, content, declared, message):
    assert message in refusal(upload(name, content, declared))


def test_the_size_limit_is_applied(settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    just = PDF + b"\x00" * (1024 * 1024 - len(PDF))
    assert check_upload(upload("a.pdf", just)) == "application/pdf"
    assert refusal(upload("a.pdf", just + b"\x00")) == "The file is larger than 1 MB."
    assert refusal(upload("a.pdf", b"")) == "The file is empty."


def test_the_service_refuses_and_stores_nothing(monday, settings):
    o = office()
    dossier = received(o)
    with pytest.raises(ValidationError) as caught:
        services.add_attachment(
            dossier=dossier, by=o.counter, upload=upload("a.pdf", PDF, "text/html")
        )
    assert "file" in caught.value.message_dict
    assert not Attachment.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.*"))


def test_the_api_refuses_a_declared_type_that_contradicts_the_content(monday):
    o = office()
    dossier = received(o)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(o.counter)
    response = client.post(
        f"/api/v1/dossiers/{dossier.code}/attachments/",
        {"file": upload("to-khai.pdf", PDF, "text/html")},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert "text/html" in response.json()["fields"]["file"][0]
    assert not Attachment.objects.exists()


# --- Stored names ---------------------------------------------------------------------------------


def test_files_are_stored_under_generated_names_and_never_overwritten(monday, settings):
    o = office()
    dossier = received(o)
    first = services.add_attachment(
        dossier=dossier, by=o.counter, upload=upload("to-khai.pdf", PDF + b"first")
    )
    second = services.add_attachment(
        dossier=dossier, by=o.counter, upload=upload("to-khai.pdf", PDF + b"second")
    )
    assert first.original_name == second.original_name == "to-khai.pdf"
    assert first.file.name != second.file.name
    for attachment, content in ((first, PDF + b"first"), (second, PDF + b"second")):
        assert STORED.match(attachment.file.name), attachment.file.name
        assert attachment.file.name.startswith(f"dossiers/{dossier.pk}/")
        path = Path(attachment.file.path).resolve()
        assert path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
        assert path.read_bytes() == content


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\win.ini.pdf", "win.ini.pdf"),
        ("/etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\An\\Tờ khai.pdf", "Tờ khai.pdf"),
        (".htaccess.pdf", "htaccess.pdf"),
        ("..", "tep-dinh-kem"),
        ("", "tep-dinh-kem"),
        ("invoice\u202efdp.exe", "invoice fdp.exe"),  # a right-to-left override disguising .exe
        ("a\nb\r\nc\x00.pdf", "a b c .pdf"),
        ("Giấy   khai\tsinh.pdf", "Giấy khai sinh.pdf"),
        ("Tơ\u0300 khai.pdf", "Tờ khai.pdf"),  # combining marks composed (NFC)
    ],
)
def test_a_given_name_is_cleaned_before_it_is_kept(given, shown):
    assert safe_file_name(given) == shown


def test_a_long_name_keeps_its_extension():
    name = safe_file_name("a" * 400 + ".pdf")
    assert len(name) == 255 and name.endswith("aaa.pdf")


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.pdf", "..\\..\\evil.pdf", "/abs/olute.pdf", "dossiers/1/x.pdf"]
)
def test_a_path_in_the_given_name_changes_nothing_on_disk(monday, settings, name):
    o = office()
    dossier = received(o)
    attachment = services.add_attachment(dossier=dossier, by=o.counter, upload=upload(name, PDF))
    assert STORED.match(attachment.file.name)
    assert "/" not in attachment.original_name and "\\" not in attachment.original_name
    media = Path(settings.MEDIA_ROOT).resolve()
    assert [p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()] == [
        attachment.file.name
    ]


def test_an_upload_through_the_page_keeps_only_the_base_name(client, monday, settings):
    o = office()
    dossier = received(o)
    client.force_login(o.counter)
    response = client.post(
        reverse("dossiers:upload", args=[dossier.code]),
        {"file": upload("../../../etc/passwd.pdf", PDF, "application/pdf"), "kind": "document"},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.original_name == "passwd.pdf"
    assert STORED.match(attachment.file.name)


# --- Downloads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "content_type", "header"),
    [
        (
            "Tờ khai.pdf",
            "application/pdf",
            "attachment; filename=\"To khai.pdf\"; filename*=utf-8''T%E1%BB%9D%20khai.pdf",
        ),
        (
            'Đơn "đề nghị"; x=1.pdf',
            "application/pdf",
            'attachment; filename="Don _de nghi__ x=1.pdf"; '
            "filename*=utf-8''%C4%90%C6%A1n%20%22%C4%91%E1%BB%81%20ngh%E1%BB%8B%22%3B%20x%3D1.pdf",
        ),
        ("scan", "image/jpeg", "attachment; filename=\"scan.jpg\"; filename*=utf-8''scan.jpg"),
        (
            "x\r\nSet-Cookie: a=b.png",
            "image/png",
            'attachment; filename="x Set-Cookie: a=b.png"; '
            "filename*=utf-8''x%20Set-Cookie%3A%20a%3Db.png",
        ),
    ],
)
def test_the_download_header_names_the_file_safely(original, content_type, header):
    assert attachment_disposition(original, content_type) == header


def test_a_download_name_gets_the_extension_of_its_content():
    assert download_name("anh", "image/png") == "anh.png"
    assert download_name("anh.JPEG", "image/jpeg") == "anh.JPEG"
    assert download_name("bao-cao.pdf.exe", "application/pdf") == "bao-cao.pdf.exe.pdf"


def test_a_download_is_an_attachment_with_nosniff_for_the_authorised_only(client, monday):
    o = office()
    dossier = submitted(o)
    attachment = services.add_attachment(
        dossier=dossier, by=o.citizen, upload=upload("Giấy khai sinh.pdf", PDF)
    )
    link = reverse("dossiers:attachment", args=[dossier.code, attachment.pk])
    for user in (o.citizen, o.counter, o.officer, o.manager, UserFactory(is_superuser=True)):
        client.force_login(user)
        response = client.get(link)
        assert response.status_code == 200, user
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == (
            'attachment; filename="Giay khai sinh.pdf"; '
            "filename*=utf-8''Gi%E1%BA%A5y%20khai%20sinh.pdf"
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == PDF
    for user in (o.outsider, UserFactory()):
        client.force_login(user)
        assert client.get(link).status_code == 404
    client.logout()
    response = client.get(link)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_file_is_only_found_under_its_own_dossier(client, monday):
    o = office()
    dossier, other = received(o), received(o)
    attachment = services.add_attachment(dossier=dossier, by=o.counter, upload=upload("a.pdf", PDF))
    client.force_login(o.counter)
    assert (
        client.get(reverse("dossiers:attachment", args=[other.code, attachment.pk])).status_code
        == 404
    )


def test_a_file_missing_from_the_storage_is_a_404(client, monday):
    o = office()
    dossier = received(o)
    attachment = services.add_attachment(dossier=dossier, by=o.counter, upload=upload("a.pdf", PDF))
    Path(attachment.file.path).unlink()
    client.force_login(o.counter)
    link = reverse("dossiers:attachment", args=[dossier.code, attachment.pk])
    assert client.get(link).status_code == 404


def test_stored_files_have_no_public_address(client, monday, settings):
    o = office()
    dossier = received(o)
    attachment = services.add_attachment(dossier=dossier, by=o.counter, upload=upload("a.pdf", PDF))
    client.force_login(o.counter)  # even for someone who may download it through the view
    for address in (
        f"/{attachment.file.name}",
        f"/media/{attachment.file.name}",
        f"/static/{attachment.file.name}",
        f"/{settings.MEDIA_URL.strip('/')}/{attachment.file.name}".replace("//", "/"),
    ):
        assert client.get(address).status_code == 404, address
    # As configured (tests move MEDIA_ROOT to a temporary folder): the files are not among the
    # static files WhiteNoise serves, and no URL serves MEDIA_ROOT.
    media = Path(configured.MEDIA_ROOT).resolve()
    for public in [Path(configured.STATIC_ROOT), *map(Path, configured.STATICFILES_DIRS)]:
        public = public.resolve()
        assert not media.is_relative_to(public) and not public.is_relative_to(media)
    assert getattr(configured, "WHITENOISE_ROOT", None) in (None, "")
    assert getattr(configured, "MEDIA_URL", "") in ("", "/")  # nothing to serve it under
