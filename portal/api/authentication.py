"""How API clients sign in: DRF's token scheme, its read made in one statement."""

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from portal.selectors import user_by_token

# DRF's own refusals of a malformed header, which its Vietnamese catalogue leaves in English:
# named here so that the project's catalogue carries them (it comes first).
HEADER_MESSAGES = (
    _("Invalid token header. No credentials provided."),
    _("Invalid token header. Token string should not contain spaces."),
    _("Invalid token header. Token string should not contain invalid characters."),
)


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, as DRF's, with the user's memberships read with the
    token (``portal.selectors.user_by_token``): a counter's software sends one intake after
    another, each asking who its user is and what they may do."""

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        found = user_by_token(key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, token = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token
