"""The platform in both its languages: Simplified Chinese by default, English on request through
the language switch, with a complete English catalogue, and times always in Beijing time.

Pages are filled with ASCII demo data here, so any CJK character left on an English page is
platform text that escaped translation (the language switcher, which names 简体中文 in its own
script on purpose, is the one exception).
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tendering import services
from tests import factories

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
LANGUAGE_SWITCH = re.compile(r'<form class="lang-switch".*?</form>', re.S)
LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
CATALOGUES = ["django.po", "djangojs.po"]


@pytest.fixture(autouse=True)
def _isolated_platform_key(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def in_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


def cjk_outside_language_switch(html: str) -> list[str]:
    """Lines of the page (minus the language switch) that still contain CJK characters."""
    html = LANGUAGE_SWITCH.sub("", html)
    return [line.strip() for line in html.splitlines() if CJK.search(line)]


def ascii_person(kind: str, name: str):
    return factories.person(kind, name=name, legal_representative="Zhang San", address="Nancheng, Dongguan")


@pytest.fixture
def tender(db):
    owner = ascii_person("tenderer", "Songhu Investment Co")
    project = services.project_create(by=factories.actor(owner), tenderer=owner.organisation, code="P-EN-1", name="Kejiao Road")
    lots = [{"name": "Roads and drainage", "description": "K0+000 to K1+200", "maximum_price_fen": 1_234_567_89}]
    return factories.make_tender(owner, state="published", project=project, title="Kejiao Road works", lots_data=lots)


def test_default_language_is_simplified_chinese(client, tender):
    page = client.get(reverse("tendering:announcements")).content.decode()
    assert '<html lang="zh-hans">' in page
    assert "交易公告" in page and "投标截止时间" in page
    assert "Announcements" not in page
    assert cjk_outside_language_switch(page)  # the English checks below can fail


def test_language_switch_remembers_english_for_the_session(client, tender):
    in_english(client)
    page = client.get(reverse("tendering:announcements")).content.decode()
    assert '<html lang="en">' in page
    # Switching back works the same way.
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "交易公告" in client.get(reverse("tendering:announcements")).content.decode()


def test_announcement_list_in_english(client, tender):
    page = in_english(client).get(reverse("tendering:announcements")).content.decode()
    for words in ["Announcements", "Dongguan Public Resource Trading Platform", "Platform time", "Sign in",
                  "Bid deadline", "Open for bids", "1 announcement", "Kejiao Road works"]:
        assert words in page, words
    assert cjk_outside_language_switch(page) == []


def with_questions_and_clarification(tender):
    owner = factories.admin_of(tender.tenderer)
    bidder = factories.register_bidder(tender, ascii_person("bidder", "Huajian Construction Co"))
    question = services.question_ask(by=factories.actor(bidder), tender=tender, text="Is asphalt included?")
    services.question_answer(by=factories.actor(owner), question=question, answer="Yes.")
    services.clarification_issue(by=factories.actor(owner), tender=tender, kind="clarification", title="Drawings",
                                 body="Drawing 3 replaced.", affects_bids=False)
    return tender


def test_tender_detail_in_english(client, tender):
    with_questions_and_clarification(tender)
    page = in_english(client).get(reverse("tendering:detail", args=[tender.pk])).content.decode()
    for words in ["Tender timeline", "Maximum price", "CNY 1,234,567.89", "Bid deadline", "Open tendering",
                  "Clarifications and amendments", "Clarification 1: Drawings", "Q: </strong>Is asphalt included?"]:
        assert words in page, words
    assert cjk_outside_language_switch(page) == []


def test_sign_in_page_in_english(client, db):
    page = in_english(client).get(reverse("accounts:login")).content.decode()
    for words in ["Sign in", "Username", "Password", "No account yet?", "Register an organisation"]:
        assert words in page, words
    assert cjk_outside_language_switch(page) == []


def test_workspace_in_english(client, tender):
    with_questions_and_clarification(tender)
    owner = factories.admin_of(tender.tenderer)
    client.force_login(owner)
    in_english(client)
    listing = client.get(reverse("tendering:workspace")).content.decode()
    for words in ["Tender workspace", "New tender", "Sign out", "Kejiao Road works", "Tenderer"]:
        assert words in listing, words
    assert cjk_outside_language_switch(listing) == []
    manage = client.get(reverse("tendering:manage", args=[tender.pk])).content.decode()
    for words in ["Issue a clarification/amendment", "View announcement", "Cancel tender", "Q</strong> ("]:
        assert words in manage, words
    assert cjk_outside_language_switch(manage) == []


def test_messages_from_services_are_translated(client, tender):
    """A domain error a user causes reaches them in English too."""
    bidder = ascii_person("bidder", "Huajian Construction Co")
    client.force_login(bidder)
    in_english(client)
    response = client.post(reverse("tendering:register", args=[tender.pk]), follow=True)
    assert "Tender documents obtained; you can now download the files." in response.content.decode()


def _statistics(catalogue: Path) -> str:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(catalogue)],
        capture_output=True, text=True, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.mark.parametrize("name", CATALOGUES)
def test_english_catalogue_is_complete(name):
    statistics = _statistics(LOCALE_DIR / name)
    assert re.fullmatch(r"\d+ translated messages?\.\n", statistics), statistics  # no fuzzy, no untranslated


@pytest.mark.parametrize("name", CATALOGUES)
def test_english_catalogue_keeps_every_placeholder(name):
    for msgid, msgstrs in _entries(LOCALE_DIR / name):
        for msgstr in msgstrs:
            assert msgstr, f"untranslated: {msgid!r}"
            assert _placeholders(msgstr) == _placeholders(msgid), (msgid, msgstr)


def test_times_render_in_beijing_time(client, tender):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    # 16:00 UTC is midnight the next day in Beijing.
    deadline = datetime(2031, 5, 6, 16, 0, tzinfo=UTC)
    tender.__class__.objects.filter(pk=tender.pk).update(bid_deadline=deadline)
    for language in ["zh-hans", "en"]:
        client.post(reverse("set_language"), {"language": language, "next": "/"})
        page = client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
        assert "2031-05-07 00:00" in page, language
        assert "2031-05-06 16:00" not in page
        assert 'data-deadline="2031-05-06T16:00:00Z"' in page  # the machine-readable instant stays UTC
    assert timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M") == "2031-05-07 00:00"


# --- a small reader for .po files (polib is not a dependency) ---

_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{\{ *\w+ *\}\}")


def _placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


def _entries(path: Path):
    """(msgid, [msgstr, ...]) for every live entry except the header; plural entries compare each
    form with the plural msgid (the singular English form may drop the count, but ours never do)."""
    import ast

    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$', line)
            if match:
                key = match.group(1)
                fields[key] = ast.literal_eval(match.group(2))
            elif key and line.startswith('"'):
                fields[key] += ast.literal_eval(line)
        if fields.get("msgid"):
            yield fields.get("msgid_plural", fields["msgid"]), [v for k, v in fields.items() if k.startswith("msgstr")]


def test_a_browser_asking_for_english_still_gets_the_platform_in_chinese_until_the_user_switches(client, db):
    page = client.get(reverse("tendering:announcements"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page.context["LANGUAGE_CODE"] == "zh-hans"
    assert "交易公告" in page.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert client.get(reverse("tendering:announcements")).context["LANGUAGE_CODE"] == "en"


def test_the_language_switch_names_each_language_in_its_own_words(client, db):
    for chosen in ("zh-hans", "en"):
        client.post(reverse("set_language"), {"language": chosen, "next": "/"})
        page = client.get(reverse("tendering:announcements")).content.decode()
        assert 'lang="zh-hans"' in page and ">简体中文</button>" in page
        assert ">English</button>" in page
