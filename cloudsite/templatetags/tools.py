from django import template

from jobs import tools

register = template.Library()


@register.simple_tag
def installed_tools():
    """The installed tools, for the nav and the home page: {% installed_tools as tools %}."""
    return tools.installed()
