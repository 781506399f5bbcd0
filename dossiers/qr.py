"""QR codes for printed slips: inline SVG made by segno (pure Python, no image files)."""

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(data: str, *, title: str = "") -> SafeString:
    """``data`` as an inline ``<svg>`` QR code (error correction M, quiet zone of 2 modules).

    The SVG has a viewBox and no fixed size: CSS decides how large it prints. The same input
    always gives the same markup, so tests can compare it.
    """
    code = segno.make(data, error="m", micro=False)
    svg = code.svg_inline(
        scale=1,
        border=2,
        omitsize=True,
        svgclass="qr",
        lineclass=None,
        title=title or None,
    )
    return mark_safe(svg)  # segno's own markup; it escapes the title itself
