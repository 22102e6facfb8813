"""Project-wide pages: the home page, statistics, the visitor's session and the health check."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from core import session_inspect
from core.health import backend_facts, healthz_response
from core.selectors import site_statistics


# Flask's MethodView.decorators: method_decorator on dispatch wraps every method of the view.
@method_decorator(never_cache, name="dispatch")
class HomeView(TemplateView):
    """The landing page. Like the seed's ``session["user"] = "value"``, it writes the session:
    it counts the visitor's visits there, so each request reads and writes the session store.

    Except for a client that sent no cookie at all: it would never bring the session back, and
    storing one for each such request is how anyone could fill the store (Flask-Session's
    empty-session flood). Its visit is shown as the first, and stored from its next one, once
    it returns the CSRF cookie this page sets (proof that it keeps cookies).
    """

    template_name = "home.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        session = self.request.session
        if "visits" in session:
            visits = session["visits"] + 1
        elif not session.keys() and self.request.COOKIES:
            # Back with the cookies of an earlier page and no session: that visit went uncounted.
            visits = 2
        else:
            visits = 1
        if session.keys() or self.request.COOKIES:
            session["visits"] = visits
        else:
            # The proof that a visitor keeps cookies is the CSRF cookie coming back. Pages
            # without a form no longer set it (project/jinja2.py), so this one asks for it: a
            # browser's next visit is counted, a client that drops cookies stores nothing.
            get_token(self.request)
        return super().get_context_data(visits=visits, backends=backend_facts(), **kwargs)


class StatsView(TemplateView):
    """Site statistics, read with one raw SQL aggregate (core/sql.py)."""

    template_name = "stats.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(statistics=site_statistics(), **kwargs)


@method_decorator(never_cache, name="dispatch")
class SessionView(TemplateView):
    """The visitor's own session as the store holds it: the Django side of the seed's
    ``session:<uuid>`` in Redis."""

    template_name = "core/session.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        session = self.request.session
        context = {
            "backend": session_inspect.session_backend_name(),
            "engine": settings.SESSION_ENGINE,
            "cookie_name": settings.SESSION_COOKIE_NAME,
            "server_side": session_inspect.session_has_server_side_storage(),
            "stored": None,
            # Reading this loads the session; a key the store lacks then reads as None.
            "expire_at_browser_close": session.get_expire_at_browser_close(),
        }
        if context["server_side"]:
            if session.session_key:
                stored = session_inspect.stored_session(session.session_key)
                # Masked: any script on the page could read it, which the HttpOnly cookie hides.
                context["stored"] = stored.masked() if stored is not None else None
        else:
            context["cookie_key_names"] = sorted(session.keys())
        return super().get_context_data(**context, **kwargs)


@require_safe
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """``/favicon.ico``, which browsers ask for whatever a page links: the site's SVG icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@require_safe
async def healthz(request: HttpRequest) -> HttpResponse:
    """JSON status of the database, cache and channel layer: 200 when all answer, else 503.

    Under daphne server/handlers.py answers /healthz on the event loop before any request
    thread; this view serves it elsewhere (the test client, ``HTTP_HANDLER=django``)."""
    return await healthz_response(request)
