from django import template

register = template.Library()


@register.filter
def display_name(user) -> str:
    """A person's name in Vietnamese order (family name first), else the username."""
    full = f"{user.last_name} {user.first_name}".strip()
    return full or user.get_username()
