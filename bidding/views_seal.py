"""The in-browser sealer: the page where a bidder packs its documents with the opening summary,
seals them with its key file and uploads the sealed file (issue 3). Everything that touches the
bid happens in the browser (static/js/sealbid/); the page only says for which tender, lot and
bidder to seal, which keys are registered, and where the upload API is.

Who: a verified bidder that obtained the tender documents (bidding.submit_bid), while the lot
takes bids (published, before the bid deadline). Anyone else is told why not (403), and a tender
the user may not see does not exist for them (404)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrganisationKind
from accounts.permissions import can
from bidding import selectors
from tendering.models import Lot, LotState


def _refusal(lot, user, now) -> str | None:
    """Why this user may not seal a bid for this lot now, or None."""
    tender = lot.tender
    organisation = user.organisation
    if not organisation.can_act:
        return _("贵单位尚未通过核验或已被暂停，暂不能递交投标文件。")
    if not tender.registrations.filter(organisation=organisation).exists():
        return _("贵单位尚未获取本项目的招标文件。请先在招标公告页面获取招标文件，然后再递交投标文件。")
    if lot.state != LotState.PUBLISHED:
        return _("该标段当前状态为“%(state)s”，不接收投标文件。") % {"state": lot.get_state_display()}
    if tender.bid_deadline is not None and now >= tender.bid_deadline:
        return _("投标截止时间（%(deadline)s）已过，平台不再接收投标文件。") % {
            "deadline": timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M")
        }
    if not can(user, "bidding.submit_bid", lot):
        return _("您无权为该标段递交投标文件。")
    return None


def _messages() -> dict[str, str]:
    """What the page's script says, in the user's language (%(name)s placeholders)."""
    return {
        "fen": _("即 %(fen)s 分"),
        "price_invalid": _("请输入金额（元），最多两位小数，例如 1234567.89。"),
        "capital_empty": _("请填写大写金额。按小写金额应为：%(expected)s"),
        "capital_ok": _("大写金额与小写金额一致。"),
        "capital_differs": _("大写金额为 %(words)s 元，与小写金额 %(figures)s 元不符。按小写金额应为：%(expected)s"),
        "capital_unreadable": _("大写金额书写不正确。"),
        "capital_suggestion": _("是否应为：%(suggestion)s"),
        "capital_bad_character": _("“%(character)s”不是大写数字（零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整）。"),
        "no_documents": _("请选择要放入投标文件的文件。"),
        "documents_total": _("共 %(count)s 个文件，%(size)s"),
        "remove": _("移除"),
        "key_choose": _("请选择密钥文件并输入口令。"),
        "key_unlocking": _("正在解锁密钥文件……"),
        "key_unlocked": _("密钥文件“%(label)s”已解锁。"),
        "key_wrong_passphrase": _("口令不正确，密钥文件无法解锁。"),
        "key_unreadable": _("密钥文件无法读取：%(reason)s"),
        "key_malformed": _("这不是有效的投标密钥文件，或文件已损坏。"),
        "key_unsupported": _("该密钥文件的版本或算法不受支持，请使用投标工具重新导出。"),
        "key_tampered": _("口令正确，但密钥文件在保存后被改动，不能使用。"),
        "key_matches": _("与贵单位登记的有效密钥一致。"),
        "key_not_registered": _("该密钥不是贵单位当前登记的有效密钥，用它密封的投标文件将被平台拒收。请使用登记的密钥文件，或先登记这对密钥。"),
        "key_none_registered": _("贵单位尚未登记有效的投标密钥，平台将拒收投标文件。请先登记密钥。"),
        "form_incomplete": _("请完整填写开标一览表。"),
        "pack_error": _("无法打包投标文件：%(reason)s"),
        "pack_price_mismatch": _("大写金额与小写金额不符，请更正后再密封。"),
        "pack_unsafe_path": _("文件名“%(path)s”不能用于投标文件（不能含控制字符、冒号、反斜杠等）。"),
        "pack_duplicate_entry": _("有两个文件同名：“%(path)s”。"),
        "pack_reserved_name": _("文件不能命名为 bid.json（该文件由平台自动生成）。"),
        "pack_empty": _("请选择要放入投标文件的文件。"),
        "pack_too_many_entries": _("文件过多：最多 %(limit)s 个。"),
        "pack_too_large": _("文件总大小超过上限（%(limit)s）。"),
        "pack_file_changed": _("文件“%(path)s”在选择后被修改或删除，请重新选择。"),
        "pack_invalid_summary": _("开标一览表中“%(field)s”填写不正确。"),
        "field_price_fen": _("投标报价（小写）"),
        "field_price_capital": _("投标报价（大写）"),
        "field_duration_days": _("工期（日历天）"),
        "field_quality": _("质量标准"),
        "field_project_manager": _("项目经理"),
        "field_project_manager.name": _("项目经理"),
        "field_project_manager.certificate": _("项目经理注册证书编号"),
        "field_bidder": _("投标人统一社会信用代码"),
        "field_documents": _("投标文件"),
        "too_large_for_platform": _("密封后的文件约 %(size)s，超过平台上限 %(limit)s。"),
        "stage_packing": _("正在打包……"),
        "stage_sealing": _("正在密封……"),
        "stage_reading": _("正在读取密封文件……"),
        "stage_creating": _("正在创建上传……"),
        "stage_resuming": _("找到未完成的上传，正在续传……"),
        "stage_sending": _("正在上传……"),
        "stage_finalising": _("上传完成，平台正在核验整个文件……"),
        "stage_verifying": _("正在核验回执……"),
        "seal_error": _("密封失败：%(reason)s"),
        "sealed": _("已密封：%(size)s，SHA-256 已写入文件头。请保存密封文件，上传中断时可用它续传。"),
        "progress": _("%(done)s / %(total)s"),
        "speed": _("%(speed)s/秒"),
        "retrying": _("网络中断，%(seconds)s 秒后重试（第 %(attempt)s/%(of)s 次）……"),
        "upload_network": _("网络中断，上传暂停。已收到的部分保存在平台上：点击“继续上传”，或稍后在本页用保存的密封文件续传。"),
        "upload_refused": _("平台拒收了此投标文件：%(reason)s 此前递交的投标文件（如有）仍然有效。"),
        "upload_error": _("上传失败：%(reason)s"),
        "upload_file_changed": _("密封文件不完整或在选择后被改动，未上传。请重新选择保存的密封文件。"),
        "resume_no_match": _("该密封文件与本标段未完成的上传都不相符，将作为新的上传递交。"),
        "resume_not_sealed": _("所选文件不是密封投标文件。"),
        "resume_wrong_lot": _("该密封文件绑定的是其他项目、标段或投标人，不能递交到本标段。"),
        "open_uploads_none": _("本标段没有未完成的上传。"),
        "open_upload_row": _("%(created)s 开始，已收到 %(received)s / %(size)s"),
        "receipt_title": _("投标文件已递交"),
        "receipt_verified": _("回执的平台签名有效，所记载的文件与本地密封文件一致。"),
        "receipt_not_verified": _("回执未能在浏览器中核验，请保存回执并核对。"),
        "receipt_already": _("此密封文件此前已经递交，以下是它的回执。"),
        "leave_warning": _("投标文件仍在处理，离开本页将中断。"),
    }


@login_required
def seal(request, lot_id: int):
    lot = get_object_or_404(Lot.objects.select_related("tender__project", "tender__tenderer"), pk=lot_id)
    tender = lot.tender
    user = request.user
    if not can(user, "tendering.view_tender", tender):
        raise Http404
    organisation = user.organisation
    if user.role != "bidder" or organisation is None or organisation.kind != OrganisationKind.BIDDER:
        raise PermissionDenied(_("只有投标人可以密封和递交投标文件。"))
    context = {"tender": tender, "lot": lot}
    refusal = _refusal(lot, user, timezone.now())
    if refusal is not None:
        return render(request, "bidding/seal.html", {**context, "refusal": refusal}, status=403)
    keys = selectors.active_keys(organisation)
    active = {purpose: key.fingerprint for purpose, key in keys.items()}
    config = {
        "binding": {"tender": str(tender.pk), "lot": str(lot.pk), "bidder": str(organisation.pk)},
        "bidder_credit_code": organisation.credit_code,
        "active_fingerprints": active,
        "lot": lot.pk,
        "api": reverse("api-bid-uploads").removesuffix("bid-uploads/"),
        "max_bid_bytes": settings.PLATFORM_MAX_BID_BYTES,
        "file_name": f"bid-{tender.code}-{lot.number:02d}",
        "messages": _messages(),
    }
    context.update({
        "organisation": organisation,
        "active_keys": keys,
        "config": config,
        "keys_url": reverse("bidding:keys"),
        "maximum_price_yuan": f"{Decimal(lot.maximum_price_fen) / 100:,.2f}" if lot.maximum_price_fen is not None else "",
    })
    return render(request, "bidding/seal.html", context)
