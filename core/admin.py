"""The admin under the site's own name (instead of "Django administration")."""

from django.conf import settings
from django.contrib import admin
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop


def _with_site_name(message: str) -> str:
    return gettext(message) % {"site": settings.SITE_NAME}


# Lazy: translated per request, in the visitor's language. The admin's autodiscover imports this
# module once at start-up; both URL confs (project/urls.py and, with ADMIN_HOST,
# project/urls_admin.py) serve this same admin.site.
admin.site.site_header = lazy(_with_site_name, str)(gettext_noop("%(site)s administration"))
admin.site.site_title = lazy(_with_site_name, str)(gettext_noop("%(site)s admin"))
admin.site.index_title = gettext_lazy("Site administration")
