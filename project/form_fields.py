"""What templates/jinja2/accounts/_field.html needs to write a form field without Django's
template engine.

``{{ field }}`` and ``field.label_tag()`` render Django's widget templates through the form
renderer (Django's template engine, a template lookup and a context per widget, per option of a
select or a checkbox list): a large share of the login page's CPU (docs/performance.md). The
widget's *context* is cheap and is where every decision is made (the value as the widget formats
it, ``required``, ``aria-invalid``, ``aria-describedby``, ``checked``, each option's id and
label), so these functions hand the macro that context and the macro writes the same HTML as
Django's templates (django/forms/templates/django/forms/widgets/*.html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.html import format_html
from django.utils.translation import gettext

if TYPE_CHECKING:
    from django.forms import BoundField
    from django_stubs_ext import StrOrPromise


def field_widget(bound_field: BoundField) -> dict[str, Any]:
    """The widget context Django's ``BoundField.as_widget`` renders (``widget`` of
    ``Widget.get_context``), with the same attributes: the field's ``required``, ``disabled``,
    ``aria-invalid`` and ``aria-describedby`` (``build_widget_attrs``) and its ``id``."""
    widget = bound_field.field.widget
    if bound_field.field.localize:
        widget.is_localized = True
    attrs = bound_field.build_widget_attrs({}, widget)
    if bound_field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound_field.auto_id)
    context = widget.get_context(bound_field.html_name, bound_field.value(), attrs)
    return context["widget"]


def field_label(bound_field: BoundField) -> tuple[StrOrPromise, str | None, bool]:
    """``(contents, for_id, use_tag)`` of the field's ``<label>``, as ``BoundField.label_tag``
    builds them: the label with the label suffix unless it ends in punctuation, the id of the
    widget's labelled element (``None``: no ``for``), and whether there is a tag at all (a field
    without an id gets its label as bare text)."""
    contents = bound_field.label
    field = bound_field.field
    label_suffix = field.label_suffix
    if label_suffix is None:
        label_suffix = bound_field.form.label_suffix
    # Django's rule, with its translatable punctuation.
    if label_suffix and contents and contents[-1] not in gettext(":?.!"):
        contents = format_html("{}{}", contents, label_suffix)
    id_ = field.widget.attrs.get("id") or bound_field.auto_id
    if not id_:
        return contents, None, False
    return contents, field.widget.id_for_label(id_), True
