"""``response.context`` and ``response.templates`` for pages rendered by Jinja2.

Django's test runner instruments only the Django template language: the test client learns
what a template was rendered with from the ``template_rendered`` signal, which the Jinja2
backend does not send. This sends it for each Jinja2 page, with the context it got.
"""

from django.template.backends.jinja2 import Template
from django.test.signals import template_rendered

_original_render = Template.render


def _render_and_report(self, context=None, request=None):
    context = {} if context is None else context
    # render() adds request, csrf_input and csrf_token to the dict: they are reported too.
    body = _original_render(self, context, request)
    template_rendered.send(sender=self, template=self.template, context=context)
    return body


def report_jinja2_rendering():
    Template.render = _render_and_report
