"""The ``_field.html`` macros write the HTML Django's widget templates write, for every widget
the account forms use, bound and unbound, valid and invalid (project/form_fields.py)."""

import re

import pytest
from django import forms
from django.template import engines
from django.utils import translation

from accounts.forms import LoginForm, RegisterForm

pytestmark = pytest.mark.django_db

MACROS = engines["jinja2"].env.get_template("accounts/_field.html").module


def normalised(html):
    """The HTML with whitespace between tags dropped and other runs of whitespace made one
    space: the macros and Django's templates break lines in different places, which HTML does
    not see."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", str(html).strip()))


def assert_same_as_django(field):
    assert normalised(MACROS.field_widget_html(field)) == normalised(field.as_widget())
    assert normalised(MACROS.field_label_html(field)) == normalised(field.label_tag())


class EveryWidgetForm(forms.Form):
    """A select, a textarea, an e-mail input and a hidden input: widgets the account pages may
    add beside the ones the two forms use."""

    email = forms.EmailField(help_text="We never share it.")
    colour = forms.ChoiceField(choices=[("r", "Red"), ("Dark", [("k", "Black"), ("n", "Navy")])])
    colours = forms.MultipleChoiceField(choices=[("r", "Red"), ("g", "Green")], required=False)
    about = forms.CharField(widget=forms.Textarea, required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"username": "ab", "password": "x" * 20, "remember": "on"},
        {"username": "alice", "password": "secret1", "remember": ""},
    ],
    ids=["unbound", "empty", "invalid", "valid"],
)
def test_login_form_fields_render_as_django_renders_them(data, language):
    with translation.override(language):
        form = LoginForm(data=data) if data is not None else LoginForm()
        form.is_bound and form.errors  # noqa: B018 - run the validation: aria-invalid follows it
        for field in form:
            assert_same_as_django(field)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"username": "a b", "password": "abc", "repassword": "abd", "gender": "x", "hobby": ["1"]},
        {"username": "bobby", "gender": "1", "hobby": ["1", "2", "3"]},
    ],
    ids=["unbound", "empty", "invalid", "partly-valid"],
)
def test_register_form_fields_render_as_django_renders_them(data):
    form = RegisterForm(data=data) if data is not None else RegisterForm()
    form.is_bound and form.errors  # noqa: B018
    for field in form:
        assert_same_as_django(field)


@pytest.mark.parametrize("data", [None, {}, {"email": "no", "colour": "n", "about": "<b>"}])
def test_select_textarea_hidden_and_email_render_as_django_renders_them(data):
    form = EveryWidgetForm(data=data) if data is not None else EveryWidgetForm()
    form.is_bound and form.errors  # noqa: B018
    for field in form:
        assert_same_as_django(field)


def test_an_invalid_field_row_describes_its_input_by_its_error_and_help_text():
    form = EveryWidgetForm(data={"email": "no"})
    html = str(MACROS.field_row(form["email"]))
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_email_helptext id_email_error"' in html
    assert 'id="id_email_helptext"' in html
    assert 'id="id_email_error"' in html
