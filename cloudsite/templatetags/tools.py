from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from jobs import tools
from jobs.numbers import for_people

register = template.Library()


@register.simple_tag
def installed_tools():
    """The installed tools, for the nav and the home page: {% installed_tools as tools %}."""
    return tools.installed()


@register.filter
def people(value):
    """A number rounded for reading (jobs.numbers); None stays None for default_if_none."""
    return None if value is None else for_people(value)


@register.filter
def ago(moment):
    """How long ago, for a list: "just now" rather than "0 minutes ago"."""
    seconds = (timezone.now() - moment).total_seconds()
    if seconds < 60:
        return "just now"
    return f"{timesince(moment)} ago"
