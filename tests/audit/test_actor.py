"""The client address every audit event records (E49), behind a reverse proxy or not."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory

from audit.actor import Actor, client_ip

ROOT = Path(__file__).resolve().parents[2]
PROXY = "10.0.0.5"
CLIENT = "203.0.113.7"


def meta(remote, forwarded=None):
    data = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        data["HTTP_X_FORWARDED_FOR"] = forwarded
    return data


def test_without_trusted_proxies_the_peer_address_is_recorded(settings):
    settings.PLATFORM_TRUSTED_PROXIES = []
    assert client_ip(meta(CLIENT)) == CLIENT
    assert client_ip(meta(CLIENT, forwarded="198.51.100.1")) == CLIENT  # a header proves nothing
    assert client_ip({}) is None


def test_a_spoofed_header_from_an_untrusted_client_is_ignored(settings):
    settings.PLATFORM_TRUSTED_PROXIES = [PROXY]
    assert client_ip(meta(CLIENT, forwarded="1.2.3.4")) == CLIENT
    assert client_ip(meta(CLIENT, forwarded=f"1.2.3.4, {PROXY}")) == CLIENT


def test_behind_our_proxy_the_client_it_saw_is_recorded(settings):
    settings.PLATFORM_TRUSTED_PROXIES = [PROXY]
    assert client_ip(meta(PROXY, forwarded=CLIENT)) == CLIENT


def test_behind_our_proxy_a_forged_left_part_of_the_header_is_ignored(settings):
    # The client sent "X-Forwarded-For: 1.2.3.4"; nginx appended the address it really saw.
    settings.PLATFORM_TRUSTED_PROXIES = [PROXY]
    assert client_ip(meta(PROXY, forwarded=f"1.2.3.4, {CLIENT}")) == CLIENT


def test_a_chain_of_trusted_proxies_and_networks_is_skipped_from_the_right(settings):
    settings.PLATFORM_TRUSTED_PROXIES = [PROXY, "172.16.0.0/12", "2001:db8::/32"]
    assert client_ip(meta(PROXY, forwarded=f"1.2.3.4, {CLIENT}, 172.20.1.1")) == CLIENT
    assert client_ip(meta("2001:db8::1", forwarded=f"{CLIENT}, 172.20.1.1")) == CLIENT
    assert client_ip(meta(PROXY, forwarded="2001:db8::9, 172.20.1.1")) == "2001:db8::9"  # all ours: the leftmost


def test_behind_our_proxy_without_a_header_or_with_garbage_the_proxy_is_recorded(settings):
    settings.PLATFORM_TRUSTED_PROXIES = [PROXY]
    assert client_ip(meta(PROXY)) == PROXY
    assert client_ip(meta(PROXY, forwarded="")) == PROXY
    assert client_ip(meta(PROXY, forwarded="unknown")) == PROXY


def test_actor_from_request_uses_the_same_rule(settings, django_user_model, db):
    settings.PLATFORM_TRUSTED_PROXIES = [PROXY]
    user = django_user_model.objects.create_user(username="zhang", password="x")
    spoofed = RequestFactory().get("/", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="1.2.3.4")
    spoofed.user = user
    assert Actor.from_request(spoofed).ip == CLIENT
    proxied = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {CLIENT}")
    proxied.user = user
    assert Actor.from_request(proxied).ip == CLIENT


def test_a_malformed_trusted_proxy_setting_stops_the_platform_at_start():
    env = {**os.environ, "PLATFORM_TRUSTED_PROXIES": "10.0.0.5, nginx.local", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "PLATFORM_TRUSTED_PROXIES" in result.stderr and "nginx.local" in result.stderr
