"""The ``{% constant %}`` blocks of project/fragments.py: written once per language, refused when
they read anything a request can change."""

import pytest
from django.template import engines
from django.test import override_settings
from django.urls import set_script_prefix
from django.utils import translation
from jinja2 import TemplateSyntaxError


@pytest.fixture
def env():
    return engines["jinja2"].env


def test_a_constant_block_is_written_in_each_language(env):
    template = env.from_string('{% constant "label" %}{{ _("Log out") }}{% endconstant %}')
    with translation.override("en"):
        english = template.render()
    with translation.override("zh-hans"):
        chinese = template.render()
        translated = translation.gettext("Log out")
    assert english == "Log out"
    assert chinese == translated != english


def test_a_constant_block_is_reused_not_re_rendered(env, monkeypatch):
    template = env.from_string(
        '{% constant "reuse" %}{{ static("css/site.css") }}{% endconstant %}'
    )
    with translation.override("en"):
        first = template.render()

        def fail(*args, **kwargs):
            raise AssertionError("the block was rendered a second time")

        monkeypatch.setitem(env.globals, "static", fail)
        assert template.render() == first
        with pytest.raises(AssertionError):
            env.from_string("{{ static('css/site.css') }}").render()


@pytest.mark.parametrize(
    "body",
    [
        "{{ request.path }}",
        "{{ csrf_input }}",
        "{% if user.is_authenticated %}x{% endif %}",
        '{{ _("Hello, %(name)s", name=form.name) }}',
        "{% trans %}Room {{ room_name }}{% endtrans %}",
    ],
)
def test_a_constant_block_that_reads_request_data_is_refused(env, body):
    with pytest.raises(TemplateSyntaxError, match="constant block 'bad' reads"):
        env.from_string('{% constant "bad" %}' + body + "{% endconstant %}")


def test_a_constant_block_may_use_its_own_loop_and_set_variables(env):
    template = env.from_string(
        '{% constant "own" %}{% set sep = "," %}'
        "{% for code, name in available_languages() %}{{ code }}{{ sep }}{% endfor %}"
        "{% endconstant %}"
    )
    with translation.override("en"):
        assert template.render() == "en,zh-hans,"


def test_the_same_name_twice_in_one_template_is_refused(env):
    with pytest.raises(TemplateSyntaxError, match="appears twice"):
        env.from_string('{% constant "a" %}x{% endconstant %}{% constant "a" %}y{% endconstant %}')


def test_the_url_prefix_is_part_of_the_key(env):
    template = env.from_string('{% constant "prefixed" %}{{ url("home") }}{% endconstant %}')
    with translation.override("en"):
        plain = template.render()
        set_script_prefix("/mounted/")
        try:
            mounted = template.render()
        finally:
            set_script_prefix("/")
    assert plain == "/"
    assert mounted == "/mounted/"


@pytest.mark.django_db
def test_pages_show_each_visitor_their_own_name_and_path(client, django_user_model):
    for name in ("alice", "bob"):
        user = django_user_model.objects.create_user(name, password="a long password 1")
        client.force_login(user)
        page = client.get("/echo/?from=" + name, secure=True).content.decode()
        assert f">Logged in as {name}<" in page
        assert f'name="next" type="hidden" value="/echo/?from={name}"' in page


@override_settings(LANGUAGE_CODE="en")
@pytest.mark.django_db
def test_the_header_follows_the_visitors_language(client):
    english = client.get("/", secure=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/", secure=True, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'lang="en"' in english and 'lang="zh-hans"' in chinese
    with translation.override("zh-hans"):
        assert translation.gettext("Skip to the content") in chinese
    assert "Skip to the content" in english
