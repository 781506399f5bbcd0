from django import template

from portal import links

register = template.Library()


@register.filter
def display_name(user) -> str:
    """A person's name in Vietnamese order (family name first), else the username."""
    full = f"{user.last_name} {user.first_name}".strip()
    return full or user.get_username()


@register.simple_tag
def page_url(name: str) -> str:
    """``{% url name %}`` for a page without arguments, reversed once per process."""
    return links.page_url(name)


@register.simple_tag
def asset(path: str) -> str:
    """``{% static path %}``, looked up in the manifest once per process."""
    return links.asset_url(path)
