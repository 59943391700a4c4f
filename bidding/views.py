"""Bidders' key page. Thin: authorise with the permission rules, call one service, redirect after a
successful POST; a refused request shows the service's message and changes nothing."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organisation, OrganisationKind
from accounts.permissions import acting_member, can, require
from audit.actor import Actor
from bidding import keyfile, selectors, services
from bidding.models import Bid
from config.errors import DomainError


def _registrations(organisation) -> list[dict]:
    """The organisation's keys grouped by registration (a decryption and a signing key), newest first."""
    groups: dict = {}
    for key in selectors.keys_of(organisation).order_by("-registered_at", "purpose"):
        group = groups.setdefault(key.registration, {"registered_at": key.registered_at, "keys": []})
        group["keys"].append(key)
    for group in groups.values():
        group["active"] = any(key.is_active for key in group["keys"])
        group["revoke_key"] = next((key for key in group["keys"] if key.is_active), None)
    return list(groups.values())


def _key_page_messages() -> dict[str, str]:
    """What static/js/sealbid/keys_page.js says, in the user's language (%(name)s placeholders)."""
    return {
        "no_webcrypto": _("本浏览器不提供所需的加密功能（WebCrypto，需通过 HTTPS 访问平台），无法在浏览器中创建密钥文件。请使用最新版浏览器，或使用投标工具。"),
        "passphrase_short": _("口令至少需要 %(min)s 个字符（现在是 %(count)s 个）。"),
        "passphrase_not_text": _("口令中有无法使用的字符。"),
        "passphrase_ok": _("口令长度符合要求。"),
        "passphrase_mismatch": _("两次输入的口令不一致。"),
        "passphrase_again": _("请再次输入口令。"),
        "label_invalid": _("标签最多 200 个字符，且不能含控制字符。"),
        "creating": _("正在生成密钥并加密密钥文件……"),
        "checking": _("正在用口令检查新的密钥文件……"),
        "created": _("密钥文件已创建。请下载并妥善保存，然后登记这对公钥。"),
        "create_error": _("无法创建密钥文件：%(reason)s"),
        "download_first": _("请先下载并保存密钥文件，再登记公钥。"),
        "downloaded": _("已下载密钥文件“%(name)s”。请确认它已保存，并另行备份。"),
        "not_downloaded_warning": _("新密钥文件尚未下载，离开本页后它将丢失。"),
        "file_read": _("已读取密钥文件“%(label)s”（%(created)s 创建）中的公钥。请核对指纹，然后登记。"),
        "no_label": _("无标签"),
        "file_malformed": _("这不是有效的投标密钥文件，或文件已损坏。"),
        "file_unsupported": _("该密钥文件的版本或算法不受支持。"),
        "file_tampered": _("密钥文件中的指纹与公钥不符，文件已被改动，不能登记。"),
        "file_unreadable": _("密钥文件无法读取：%(reason)s"),
        "already_active": _("这对公钥已是贵单位的有效密钥，无需再次登记。"),
        "registering": _("正在登记……"),
        "registered": _("这对公钥已登记为贵单位的有效密钥。请核对下面显示的指纹。"),
        "register_error": _("登记失败：%(reason)s"),
        "register_network": _("网络中断，未能登记，请重试。"),
    }


def _page(request, organisation):
    require(request.user, "bidding.view_keys", organisation)
    own = organisation.pk == request.user.organisation_id
    can_manage = can(request.user, "bidding.manage_keys", organisation)
    context = {
        "organisation": organisation,
        "registrations": _registrations(organisation),
        "can_manage": can_manage,
        "own": own,
    }
    if own and can_manage:
        # The in-browser key file section (keys_page.js): a new file is named after the bidder's
        # credit code; registering rotates the keys in force, which the page asks to confirm.
        active = selectors.active_keys(organisation)
        context["has_active_keys"] = bool(active)
        context["min_passphrase_chars"] = keyfile.MIN_PASSPHRASE_CHARS
        context["key_page"] = {
            "api": reverse("api-bidder-keys"),
            "file_name_prefix": "bidder-keys-" + (re.sub(r"[^0-9A-Za-z]", "", organisation.credit_code or "") or str(organisation.pk)),
            "has_active_keys": bool(active),
            "min_passphrase_chars": keyfile.MIN_PASSPHRASE_CHARS,
            "active_fingerprints": {purpose: key.fingerprint for purpose, key in active.items()},
            "messages": _key_page_messages(),
        }
    return render(request, "bidding/keys.html", context)


@login_required
def keys(request):
    """The own bidder's keys."""
    organisation = request.user.organisation
    if organisation is None or organisation.kind != OrganisationKind.BIDDER:
        raise PermissionDenied(_("只有投标人登记自己的投标密钥。"))
    return _page(request, organisation)


@login_required
def organisation_keys(request, pk: int):
    """One bidder's keys, as the centre and regulators (and the bidder itself) see them."""
    return _page(request, get_object_or_404(Organisation, pk=pk, kind=OrganisationKind.BIDDER))


@login_required
@require_POST
def key_revoke(request, fingerprint: str):
    key = selectors.key_by_fingerprint(fingerprint)
    if key is None or not can(request.user, "bidding.view_keys", key.organisation):
        raise Http404
    try:
        services.bidder_key_revoke(by=Actor.from_request(request), key=key, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("该批密钥（解密公钥和签名公钥）已撤销，今后用它们密封或签名的投标文件将被拒收。"))
    return redirect("bidding:keys")


def _own_bidder_organisation(request):
    organisation = request.user.organisation
    if organisation is None or organisation.kind != OrganisationKind.BIDDER or request.user.role != "bidder":
        raise PermissionDenied(_("只有投标人才能查看自己的投标文件。"))
    return organisation


@login_required
def bids(request):
    """我的投标: the own organisation's bids (every version) and uploads in progress. Nobody else
    sees this before the opening: the page only ever lists the user's own organisation."""
    organisation = _own_bidder_organisation(request)
    lots: dict = {}
    for bid in selectors.bids_of(organisation):
        lots.setdefault(bid.lot, {"bids": [], "uploads": []})["bids"].append(bid)
    for upload in selectors.uploads_of(organisation, status="open"):
        lots.setdefault(upload.lot, {"bids": [], "uploads": []})["uploads"].append(upload)
    context = {
        "lots": [{"lot": lot, **entries} for lot, entries in sorted(lots.items(), key=lambda item: (item[0].tender_id, item[0].number))],
        "can_manage": acting_member(request.user, "bidder"),
    }
    return render(request, "bidding/bids.html", context)


@login_required
@require_POST
def bid_withdraw(request, pk: int):
    bid = Bid.objects.select_related("lot__tender", "bidder").filter(pk=pk).first()
    if bid is None or not can(request.user, "bidding.view_bid", bid):
        raise Http404
    try:
        services.bid_withdraw(by=Actor.from_request(request), bid=bid, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("投标文件已撤回。截止时间前仍可重新递交。"))
    return redirect("bidding:bids")
