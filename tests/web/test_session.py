"""The web session: log-in and log-out, the cookie's flags, revocation, CSRF, the
language and the error pages."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, login
from tests.web.conftest import Browser, WebWorld, csrf_of, html_lang


def session_cookie_header(response: object) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = [h for h in headers if h.startswith("direkte_session=")]
    assert found, headers
    return str(found[0])


class TestLogIn:
    def test_customer_logs_in_and_lands_on_visits(self, web: WebWorld) -> None:
        browser = web.browser()
        response = browser.log_in("ola@example.no")
        assert response.headers["location"] == "/app/visits"
        cookie = session_cookie_header(response).lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie  # plain http in the test
        assert browser.get("/app/visits").status_code == 200

    def test_cookie_is_secure_over_https(self, web: WebWorld) -> None:
        browser = web.browser()
        token = csrf_of(browser.get("https://testserver/app/login"))
        response = browser.client.post(
            "https://testserver/app/login",
            data={"username": "ola@example.no", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert "secure" in session_cookie_header(response).lower()

    def test_staff_land_on_their_inbox_and_next_is_kept(self, web: WebWorld) -> None:
        assert web.browser().log_in("kari@example.no").headers["location"] == "/app/inbox"
        browser = web.browser()
        page = browser.get("/app/login?next=/app/notifications")
        response = browser.client.post(
            "/app/login",
            data={
                "username": "ola@example.no",
                "password": PASSWORD,
                "next": "/app/notifications",
                "csrf_token": csrf_of(page),
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/app/notifications"

    def test_next_never_leads_off_the_app(self, web: WebWorld) -> None:
        browser = web.browser()
        token = csrf_of(browser.get("/app/login"))
        response = browser.client.post(
            "/app/login",
            data={
                "username": "ola@example.no",
                "password": PASSWORD,
                "next": "//evil.example/app/",
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/app/visits"

    def test_wrong_password_shows_the_form_again(self, web: WebWorld) -> None:
        browser = web.browser()
        response = browser.form(
            "/app/login", "/app/login", {"username": "ola@example.no", "password": "nope"}
        )
        assert response.status_code == 401
        assert "Wrong e-mail or password." in response.text
        assert "direkte_session" not in response.headers.get("set-cookie", "")

    def test_the_api_log_in_lock_holds_for_the_form(self, web: WebWorld) -> None:
        browser = web.browser()
        for _ in range(5):
            browser.form(
                "/app/login", "/app/login", {"username": "ola@example.no", "password": "nope"}
            )
        # Locked for the API and the form alike, also with the right password.
        locked = browser.form(
            "/app/login", "/app/login", {"username": "ola@example.no", "password": PASSWORD}
        )
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0
        api = web.api.post(
            "/api/v1/auth/token", data={"username": "ola@example.no", "password": PASSWORD}
        )
        assert api.status_code == 429

    def test_the_log_in_page_sends_a_logged_in_browser_on(self, web: WebWorld) -> None:
        response = web.browser("ola@example.no").get("/app/login")
        assert response.status_code == 303
        assert response.headers["location"] == "/app/visits"

    def test_a_page_without_a_session_leads_to_the_log_in(self, web: WebWorld) -> None:
        response = web.browser().get("/app/visits")
        assert response.status_code == 303
        assert response.headers["location"] == "/app/login?next=/app/visits"


class TestLogOut:
    def test_log_out_ends_the_session_for_good(self, web: WebWorld) -> None:
        browser = web.browser("ola@example.no")
        cookie = browser.client.cookies.get("direkte_session")
        response = browser.form("/app/visits", "/app/logout")
        assert response.status_code == 303
        assert response.headers["location"] == "/app/login"
        assert browser.get("/app/visits").status_code == 303
        # The old cookie, replayed, is refused: its token was revoked.
        replay = web.browser()
        replay.client.cookies.set("direkte_session", cookie)
        assert replay.get("/app/visits").status_code == 303

    def test_a_password_change_ends_web_sessions(self, web: WebWorld) -> None:
        browser = web.browser("ola@example.no")
        changed = web.api.post(
            "/api/v1/auth/password",
            json={"current": PASSWORD, "new": "another-long-password-42"},
            headers=login(web.api, "ola@example.no"),
        )
        assert changed.status_code == 204
        assert browser.get("/app/visits").status_code == 303

    def test_disabling_the_user_ends_web_sessions(self, web: WebWorld) -> None:
        browser = web.browser("ola@example.no")
        visits = web.api.get("/api/v1/me/visits", headers=login(web.api, "ola@example.no"))
        assert visits.status_code == 200
        ops = login(web.api, "ops@example.no")
        users = web.api.get("/api/v1/audit", headers=ops)
        assert users.status_code == 200
        ola_id = _user_id(web, "ola@example.no")
        assert web.api.post(f"/api/v1/users/{ola_id}/disable", headers=ops).status_code == 200
        assert browser.get("/app/visits").status_code == 303


def _user_id(web: WebWorld, email: str) -> int:
    body = web.api.get("/api/v1/me/export", headers=login(web.api, email)).json()
    return int(body["customer"]["id"])


class TestCsrf:
    def test_post_without_token_is_refused(self, web: WebWorld) -> None:
        browser = web.browser("ola@example.no")
        response = browser.client.post("/app/logout", follow_redirects=False)
        assert response.status_code == 403
        assert "The form has expired" in response.text
        assert browser.get("/app/visits").status_code == 200  # still logged in

    def test_post_with_a_wrong_token_is_refused(self, web: WebWorld) -> None:
        browser = web.browser("ola@example.no")
        response = browser.client.post(
            "/app/logout", data={"csrf_token": "0" * 64}, follow_redirects=False
        )
        assert response.status_code == 403

    def test_log_in_without_token_is_refused(self, web: WebWorld) -> None:
        response = web.browser().client.post(
            "/app/login",
            data={"username": "ola@example.no", "password": PASSWORD},
            follow_redirects=False,
        )
        assert response.status_code == 403

    def test_a_token_from_another_session_is_refused(self, web: WebWorld) -> None:
        mine = web.browser("ola@example.no")
        theirs = web.browser("ola@example.no")
        response = mine.client.post(
            "/app/logout",
            data={"csrf_token": csrf_of(theirs.get("/app/visits"))},
            follow_redirects=False,
        )
        assert response.status_code == 403

    def test_htmx_header_is_accepted(self, web: WebWorld) -> None:
        browser = web.browser("ola@example.no")
        token = csrf_of(browser.get("/app/visits"))
        response = browser.client.post(
            "/app/logout", headers={"X-CSRF-Token": token}, follow_redirects=False
        )
        assert response.status_code == 303


class TestLanguage:
    def test_accept_language_then_query_then_remembered(self, web: WebWorld) -> None:
        browser = web.browser()
        page = browser.get("/app/login", headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"})
        assert html_lang(page) == "sv"
        assert "Logga in" in page.text
        page = browser.get("/app/login?lang=de")
        assert html_lang(page) == "de"
        assert "Anmelden" in page.text
        assert html_lang(browser.get("/app/login")) == "de"  # remembered in the cookie

    def test_the_users_language_when_nothing_else_is_chosen(self, web: WebWorld) -> None:
        # Ola's language is nb in the factories' network; Mads's da.
        page = web.browser("ola@example.no").get("/app/visits")
        assert html_lang(page) == "nb"
        assert "Mine besøk" in page.text

    def test_unknown_languages_read_english(self, web: WebWorld) -> None:
        page = web.browser().get("/app/login?lang=xx", headers={"Accept-Language": "fr"})
        assert html_lang(page) == "en"


class TestErrorPages:
    @pytest.mark.parametrize("lang", ["en", "nb", "da", "sv", "de"])
    def test_not_found_page_in_the_language_with_request_id(self, web: WebWorld, lang: str) -> None:
        browser: Browser = web.browser("ola@example.no")
        response = browser.get(f"/app/nowhere?lang={lang}", headers={"X-Request-ID": "req-42"})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert html_lang(response) == lang
        assert "req-42" in response.text

    def test_the_api_keeps_its_json_errors(self, web: WebWorld) -> None:
        response = web.api.get("/api/v1/nowhere")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


class TestMoreErrorPages:
    def test_an_unexpected_error_is_a_page_with_the_request_id(
        self, web: WebWorld, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        browser = web.browser("ola@example.no")

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr("direkte.overview.service.view_visits", broken)
        response = browser.get("/app/visits?lang=sv", headers={"X-Request-ID": "req-500"})
        assert response.status_code == 500
        assert html_lang(response) == "sv"
        assert "Något gick fel" in response.text
        assert "req-500" in response.text
        assert "boom" not in response.text

    def test_a_refusal_is_a_forbidden_page(self, web: WebWorld) -> None:
        visit_id = web.visit()
        diagnosis_id = web.diagnosis()
        browser = web.browser("kari@example.no")
        response = browser.get(
            f"/app/visits/{visit_id}/escalate?subject=diagnosis:{diagnosis_id}&lang=de"
        )
        assert response.status_code == 403
        assert "Nicht erlaubt" in response.text
