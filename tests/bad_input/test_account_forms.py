"""Hostile form data posted to registration and login (hypothesis), through Django's test
client on the real MariaDB database and Redis.

Whatever arrives - any text, missing fields, repeated fields, very long values, unknown fields,
raw bytes under any content type - the answer is a page with errors next to the fields (or the
login's one non-field error), a redirect for a valid registration, 429 from the throttle, or a
clear 400/413: never a 5xx. And nothing stored is lost: the registered user ``alice`` keeps her
password and profile, and logs in afterwards.
"""

from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.test.client import encode_multipart
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.forms import LoginForm, RegisterForm
from tests.support.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

REGISTER_URL = "/accounts/register/"
LOGIN_URL = "/accounts/login/"
BOUNDARY = "BoUnDaRyhypothesis"

# Django's password validators' codes (AUTH_PASSWORD_VALIDATORS) and CharField's NUL check.
PASSWORD_VALIDATOR_CODES = {
    "password_too_similar",
    "password_too_short",
    "password_too_common",
    "password_entirely_numeric",
    "password_too_long",
    "password_entirely_whitespace",
}
NUL_CODE = "null_characters_not_allowed"


def field_codes(form_class):
    return {code for field in form_class.base_fields.values() for code in field.error_messages}


REGISTER_CODES = (
    field_codes(RegisterForm) | set(RegisterForm.error_messages) | PASSWORD_VALIDATOR_CODES
) | {NUL_CODE}
LOGIN_FIELD_CODES = field_codes(LoginForm) | {NUL_CODE}
LOGIN_FORM_CODES = set(LoginForm.error_messages)

# Text that can be sent at all: any code point but lone surrogates (not encodable as UTF-8).
CHARACTERS = st.characters(exclude_categories=["Cs"])
TRICKY = st.sampled_from(
    [
        "",
        " ",
        "alice",
        "ALICE",
        "\uff41\uff4c\uff49\uff43\uff45",  # full-width "alice": NFKC makes it "alice"
        "alice\x00",
        "1",
        "-1",
        "0",
        "99999999999999999999999",
        "1e3",
        "\uff11",  # full-width digit one
        STRONG_PASSWORD,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "\u202e\u0000\ufeff",
        "😀" * 4,
    ]
)
# Very long values cost nothing to build: one character repeated.
LONG = st.builds(lambda char, count: char * count, CHARACTERS, st.integers(200, 100_000))
VALUE = st.one_of(TRICKY, st.text(CHARACTERS, max_size=30), LONG)
# A field is missing, sent once, or repeated.
FIELD = st.one_of(
    st.none(), VALUE.map(lambda value: [value]), st.lists(VALUE, min_size=2, max_size=4)
)


def encode(pairs, multipart):
    """(body, content type) of a form post, URL-encoded or multipart."""
    if not multipart:
        return urlencode(pairs).encode(), "application/x-www-form-urlencoded"
    data = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return encode_multipart(BOUNDARY, data), f"multipart/form-data; boundary={BOUNDARY}"


@st.composite
def form_posts(draw, field_names):
    """A form post with the form's fields in any state, and unknown fields too."""
    pairs = []
    for name in field_names:
        values = draw(FIELD)
        pairs += [(name, value) for value in values or []]
    unknown_name = st.text(CHARACTERS, min_size=1, max_size=12)
    pairs += draw(st.lists(st.tuples(unknown_name, VALUE), max_size=3))
    return encode(draw(st.permutations(pairs)), multipart=draw(st.booleans()))


@st.composite
def near_valid_registrations(draw):
    """A valid registration (a fresh username) with at most one field in any state: the posts
    that reach the database and the password validators, and sometimes register."""
    fields = {
        "username": [username := draw(st.from_regex(r"\Au[a-z0-9]{2,7}\Z"))],
        "email": [f"{username}@example.com"],
        "password": [STRONG_PASSWORD],
        "repassword": [STRONG_PASSWORD],
        "gender": [draw(st.sampled_from(["1", "2"]))],
        "hobby": draw(st.lists(st.sampled_from(["1", "2", "3", "4", "5"]), min_size=2, max_size=4)),
    }
    broken = draw(st.sampled_from([None, *fields]))
    if broken is not None:
        fields[broken] = draw(FIELD) or []
    pairs = [(name, value) for name, values in fields.items() for value in values]
    return encode(pairs, multipart=draw(st.booleans()))


def post(client, url, body, content_type, address="127.0.0.1"):
    return client.generic("POST", url, body, content_type=content_type, REMOTE_ADDR=address)


def assert_errors_beside_fields(response, form_codes=frozenset()):
    """The form came back with errors; each is on a field and shown in that field's block, or is
    one of the form's own (non-field) errors."""
    form = response.context["form"]
    errors = form.errors.as_data()
    assert errors, "a form sent back without errors"
    html = response.content.decode()
    for name, field_errors in errors.items():
        codes = {error.code for error in field_errors}
        if name == "__all__":
            assert codes <= form_codes, codes
            assert 'class="errorlist form-error"' in html
        else:
            assert name in form.fields, name
            assert f'id="id_{name}_error"' in html, name
    return {error.code for field_errors in errors.values() for error in field_errors}


@pytest.fixture
def alice_account(alice):
    """The registered user whose account must survive (tests/conftest.py's ``alice``, gender 2
    and hobbies 2 and 4): (password hash, hobby ids)."""
    return alice.password, [2, 4]


def assert_alice_intact(alice_account):
    password_hash, hobby_ids = alice_account
    alice = get_user_model().objects.get(username="alice")
    assert alice.password == password_hash
    assert alice.profile.gender == "2"
    assert sorted(alice.profile.hobbies.values_list("id", flat=True)) == hobby_ids


def assert_alice_logs_in():
    client = Client()
    response = client.post(LOGIN_URL, {"username": "alice", "password": STRONG_PASSWORD})
    assert response.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200


HYPOTHESIS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_registration_answers_any_form_data_with_field_errors_or_a_new_user_never_a_5xx(
    alice_account, clean_login_throttle, settings
):
    # Hundreds of posts from one client: about the form, not the per-client limit
    # (tests/accounts/test_throttle.py).
    settings.REGISTRATIONS_PER_CLIENT = 1_000_000
    users = get_user_model().objects
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    seen_codes = set()

    @HYPOTHESIS
    @given(
        st.one_of(
            form_posts(["username", "email", "password", "repassword", "gender", "hobby"]),
            near_valid_registrations(),
        )
    )
    # Always among the examples, so that the rules below are reached whatever hypothesis draws.
    @example(
        encode(
            [
                ("username", "bobby"),
                ("email", "bobby@example.com"),
                ("password", STRONG_PASSWORD),
                ("repassword", STRONG_PASSWORD),
                ("gender", "1"),
                ("hobby", "1"),
                ("hobby", "3"),
            ],
            False,
        )
    )
    @example(encode([("username", "much-too-long"), ("hobby", "x"), ("hobby", "1")], False))
    @example(encode([], True))
    def register(body_and_type):
        body, content_type = body_and_type
        before = users.count()

        response = post(Client(), REGISTER_URL, body, content_type)

        if len(body) > limit:
            assert response.status_code in (400, 413)
        elif response.status_code == 302:
            assert response["Location"] == "/"
            assert users.count() == before + 1
            seen_codes.add("registered")
        else:
            assert response.status_code == 200
            codes = assert_errors_beside_fields(response)
            assert codes <= REGISTER_CODES, codes - REGISTER_CODES
            seen_codes.update(codes)
            assert users.count() == before
        assert_alice_intact(alice_account)

    register()
    # The property test reached the rules, not only the empty form.
    assert {"registered", "required", "max_length", "invalid_pk_value"} <= seen_codes
    assert_alice_logs_in()


def test_login_answers_any_form_data_with_errors_or_429_never_a_5xx(
    alice_account, clean_login_throttle
):
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    alice_id = get_user_model().objects.get(username="alice").pk
    seen = set()

    @HYPOTHESIS
    @given(
        form_posts(["username", "password", "remember", "next"]),
        st.ip_addresses(v=4).map(str),
    )
    # Always among the examples, so that the rules below are reached whatever hypothesis draws:
    # a well-formed login with a wrong password, and an empty post.
    @example(encode([("username", "alice"), ("password", "wrong-pass")], False), "10.0.0.1")
    @example(encode([], False), "10.0.0.2")
    def log_in(body_and_type, address):
        body, content_type = body_and_type
        client = Client()

        response = post(client, LOGIN_URL, body, content_type, address=address)

        if len(body) > limit:
            assert response.status_code in (400, 413)
        elif response.status_code == 429:
            assert int(response["Retry-After"]) > 0
            seen.add(429)
        elif response.status_code == 302:
            # The one account there is, with its own password (hypothesis finds it).
            assert client.session["_auth_user_id"] == str(alice_id)
            seen.add("logged_in")
        else:
            assert response.status_code == 200
            codes = assert_errors_beside_fields(response, LOGIN_FORM_CODES)
            assert codes <= LOGIN_FIELD_CODES | LOGIN_FORM_CODES, codes
            seen.update(codes)
            assert "_auth_user_id" not in client.session
        assert_alice_intact(alice_account)

    log_in()
    assert {"required", "invalid_login"} <= seen
    # Forget the failures the property test made, as the throttle's window passing would.
    clean_login_throttle()
    assert_alice_logs_in()


CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-1",
            "application/x-www-form-urlencoded; charset=nonsense",
            "multipart/form-data",
            f"multipart/form-data; boundary={BOUNDARY}",
            "multipart/form-data; boundary=",
            "application/json",
            "text/plain",
            "",
        ]
    ),
    st.text(CHARACTERS, max_size=40).filter(lambda text: "\n" not in text and "\r" not in text),
)


@st.composite
def raw_bodies(draw):
    """Arbitrary bytes, or bytes that almost make a multipart body."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=2000))
    parts = draw(
        st.lists(
            st.sampled_from(
                [
                    f"--{BOUNDARY}\r\n".encode(),
                    b'Content-Disposition: form-data; name="username"\r\n\r\n',
                    b'Content-Disposition: form-data; name="hobby"; filename="x"\r\n',
                    b"Content-Type: text/plain\r\n\r\n",
                    b"\xff\xfe\x00",
                    b"alice\r\n",
                    f"--{BOUNDARY}--\r\n".encode(),
                    b"username=%FF%FE&password=%",
                ]
            ),
            max_size=12,
        )
    )
    return b"".join(parts)


@pytest.mark.parametrize("url", [REGISTER_URL, LOGIN_URL])
def test_raw_bodies_of_any_bytes_and_content_type_never_give_a_5xx(
    url, alice_account, clean_login_throttle
):
    @HYPOTHESIS
    @given(raw_bodies(), CONTENT_TYPES, st.ip_addresses(v=4).map(str))
    def send(body, content_type, address):
        response = post(Client(), url, body, content_type, address=address)

        assert response.status_code in (200, 400, 429), response.status_code
        if response.status_code == 200:
            assert_errors_beside_fields(response, LOGIN_FORM_CODES)
        assert_alice_intact(alice_account)

    send()
    assert_alice_logs_in()


def test_more_repeated_fields_than_django_accepts_answer_400():
    body = urlencode([("hobby", "1")] * (django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = post(Client(), REGISTER_URL, body.encode(), "application/x-www-form-urlencoded")

    assert response.status_code == 400
