"""Users (with the profile inline) and hobbies in the admin: 200 for a superuser, else redirect."""

import pytest

from accounts.models import Profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_pages(alice):
    return [
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        f"/admin/auth/user/{alice.pk}/change/",
        "/admin/accounts/hobby/",
        "/admin/accounts/hobby/add/",
        "/admin/accounts/hobby/1/change/",
    ]


def test_admin_pages_answer_200_for_a_superuser(admin_client, admin_pages):
    for url in admin_pages:
        assert admin_client.get(url).status_code == 200, url


def test_admin_pages_redirect_visitors_to_the_admin_login(client, admin_pages):
    for url in admin_pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/admin/login/"), url


def test_admin_pages_redirect_users_who_are_not_staff(client, admin_pages, alice):
    client.force_login(alice)

    for url in admin_pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/admin/login/"), url


def test_user_change_page_has_the_profile_inline_with_gender_and_hobbies(admin_client, alice):
    html = admin_client.get(f"/admin/auth/user/{alice.pk}/change/").content.decode()

    assert 'name="profile-0-gender"' in html
    assert 'name="profile-0-hobbies"' in html


def test_admin_can_change_a_profile_through_the_inline(admin_client, alice):
    url = f"/admin/auth/user/{alice.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {
        "username": alice.username,
        "is_active": "on",
        "date_joined_0": form["date_joined"].value().strftime("%Y-%m-%d"),
        "date_joined_1": form["date_joined"].value().strftime("%H:%M:%S"),
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": str(alice.profile.pk),
        "profile-0-user": str(alice.pk),
        "profile-0-gender": "1",
        "profile-0-hobbies": ["1", "5"],
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    profile = Profile.objects.get(user=alice)
    assert profile.gender == "1"
    assert sorted(profile.hobbies.values_list("id", flat=True)) == [1, 5]


def test_hobby_list_shows_the_five_default_hobbies(admin_client):
    response = admin_client.get("/admin/accounts/hobby/")

    assert response.context["cl"].result_count == 5


def test_admin_refuses_an_email_another_account_has(admin_client, alice, make_user):
    make_user(username="bob", email="Bob@example.com")
    url = f"/admin/auth/user/{alice.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {
        "username": alice.username,
        "email": "bob@EXAMPLE.com",
        "is_active": "on",
        "date_joined_0": form["date_joined"].value().strftime("%Y-%m-%d"),
        "date_joined_1": form["date_joined"].value().strftime("%H:%M:%S"),
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": str(alice.profile.pk),
        "profile-0-user": str(alice.pk),
        "profile-0-gender": "1",
        "profile-0-hobbies": ["1", "5"],
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [error.code for error in errors["email"]] == ["duplicate_email"]
