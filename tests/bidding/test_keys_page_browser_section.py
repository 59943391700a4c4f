"""The keys page's in-browser section (create a key file, register public keys): shown, with its
script and configuration, only to a user who can manage the organisation's keys; the rotation
warning only when keys are in force; its script's messages in the user's language."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils import translation

from bidding import keyfile

from .test_keys_world import people, register  # noqa: F401

pytestmark = pytest.mark.django_db

SECTION = "在浏览器中创建密钥文件"
CONFIG = re.compile(r'<script id="keys-page-config" type="application/json">(.*?)</script>', re.S)


def page_of(client, user, url=None) -> str:
    client.force_login(user)
    response = client.get(url or reverse("bidding:keys"))
    client.logout()
    assert response.status_code == 200
    return response.content.decode()


def config_of(page: str) -> dict:
    return json.loads(CONFIG.search(page).group(1))


def test_a_bidder_who_can_manage_keys_gets_the_section_its_script_and_configuration(client, people):  # noqa: F811
    bidder = people["bidder"]
    page = page_of(client, bidder)
    assert SECTION in page and "登记这对公钥" in page and 'id="existing-key-file"' in page
    assert "js/sealbid/keys_page.js" in page and 'type="module"' in page
    assert "即将提供" not in page and "将随浏览器密封功能一起提供" not in page
    config = config_of(page)
    assert config["api"] == reverse("api-bidder-keys")
    assert config["file_name_prefix"] == "bidder-keys-" + bidder.organisation.credit_code
    assert config["min_passphrase_chars"] == keyfile.MIN_PASSPHRASE_CHARS
    assert f"至少 {keyfile.MIN_PASSPHRASE_CHARS} 个字符" in page
    # No keys yet: nothing to rotate, no warning.
    assert config["has_active_keys"] is False and config["active_fingerprints"] == {}
    assert 'id="rotation-warning"' not in page


def test_with_keys_in_force_the_page_warns_that_registering_rotates(client, people):  # noqa: F811
    decryption, signing = register(people["bidder"])
    page = page_of(client, people["bidder"])
    config = config_of(page)
    assert config["has_active_keys"] is True
    assert config["active_fingerprints"] == {"decryption": decryption.fingerprint, "signing": signing.fingerprint}
    assert 'id="rotation-warning"' in page and "即为轮换" in page and "请保留旧密钥文件" in page
    assert 'id="rotation-confirm"' in page


@pytest.mark.parametrize("role", ["pending_bidder", "suspended_bidder"])
def test_a_bidder_that_cannot_manage_keys_gets_no_section(client, people, role):  # noqa: F811
    page = page_of(client, people[role])
    assert SECTION not in page and "keys_page.js" not in page and "keys-page-config" not in page
    assert 'id="register-keys"' not in page
    assert "通过核验且未被暂停后" in page


@pytest.mark.parametrize("role", ["centre", "regulator"])
def test_those_who_read_a_bidders_keys_get_no_section(client, people, role):  # noqa: F811
    register(people["bidder"])
    url = reverse("bidding:organisation_keys", args=[people["bidder"].organisation_id])
    page = page_of(client, people[role], url)
    assert SECTION not in page and "keys_page.js" not in page and "keys-page-config" not in page


def test_the_bidder_reading_its_own_keys_by_organisation_address_gets_the_section_too(client, people):  # noqa: F811
    bidder = people["bidder"]
    page = page_of(client, bidder, reverse("bidding:organisation_keys", args=[bidder.organisation_id]))
    assert SECTION in page


def test_the_section_and_its_script_messages_in_english(client):
    from tests.factories import person
    from tests.test_i18n import CJK, cjk_outside_language_switch, in_english

    bidder = person("bidder", name="Huajian Construction Co", legal_representative="Zhang San", address="Nancheng, Dongguan")
    register(bidder)
    client.force_login(bidder)
    with translation.override(translation.get_language()):
        page = in_english(client).get(reverse("bidding:keys")).content.decode()
    for words in ["Create a key file in the browser", "Register this pair of public keys", "rotat"]:
        assert words in page, words
    assert cjk_outside_language_switch(page) == []
    messages = config_of(page)["messages"]
    assert messages and [name for name, text in messages.items() if CJK.search(text)] == []
