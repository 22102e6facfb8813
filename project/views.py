"""Project-wide pages: the home page and the health check."""

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from project.health import check_services
from project.selectors import site_statistics


# Flask's MethodView.decorators: method_decorator on dispatch wraps every method of the view.
@method_decorator(never_cache, name="dispatch")
class HomeView(TemplateView):
    """The landing page. Like the seed's ``session["user"] = "value"``, it writes the session:
    it counts the visitor's visits there, so each request reads and writes the session store."""

    template_name = "home.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        visits = self.request.session.get("visits", 0) + 1
        self.request.session["visits"] = visits
        return super().get_context_data(visits=visits, **kwargs)


class StatsView(TemplateView):
    """Site statistics, read with one raw SQL aggregate (project/sql.py)."""

    template_name = "stats.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        return super().get_context_data(statistics=site_statistics(), **kwargs)


@require_safe
async def healthz(request):
    """JSON status of the database, cache and channel layer: 200 when all answer, else 503."""
    results = await check_services()
    healthy = all(result == "ok" for result in results.values())
    response = JsonResponse(results, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
