"""Path converters shared by the URL configurations."""


class CodeConverter:
    """A dossier's or a procedure's code in a path: any characters but a slash and control
    characters (a NUL cannot even be sent to PostgreSQL), so such a path is a plain 404."""

    regex = r"[^/\x00-\x1f\x7f]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
