from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context, param, number):
    """The current query string with ``param`` set to ``number`` (the other pager and filters kept)."""
    query = context["request"].GET.copy()
    query[param] = number
    return f"?{query.urlencode()}"
