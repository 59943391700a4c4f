"""Opening pages. Thin: authorise with the rules, read with the selectors; every change goes
through the room's WebSocket commands (opening/consumers.py) or the API, which call the services."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.permissions import can
from opening import selectors
from opening.models import DEFAULT_WINDOW_MINUTES, DecryptionStatus, FailureSide, SessionState
from opening.services.core import MAX_WINDOW_MINUTES, MIN_BIDS, MIN_WINDOW_MINUTES


def _event_messages() -> dict[str, str]:
    """The event log's line per event kind (%(name)s takes the event's payload fields)."""
    return {
        "opened": _("开标室开放，共 %(bids)s 份投标文件。"),
        "checked_in": _("%(name)s 已签到。"),
        "decryption_started": _("主持人开始解密，解密时限 %(window_minutes)s 分钟。"),
        "aborted": _("开标未进行：%(reason)s"),
        "key_released": _("%(bidder)s 已释放数据密钥，平台开始解密。"),
        "price_read": _("唱标：%(bidder)s，投标报价 %(price)s。"),
        "decryption_failed": _("%(bidder)s 的投标文件解密失败：%(detail)s"),
        "decryption_ended": _("解密结束：%(valid)s / %(total)s 份投标文件有效。"),
        "finished": _("开标结束，进入评标。"),
        "finished_failed": _("开标结束，本标段流标：%(reason)s"),
        "objections_opened": _("主持人开放异议期。"),
        "objections_closed": _("主持人关闭异议期（共 %(count)s 条异议）。"),
        "objection_raised": _("%(bidder)s 提出异议：%(text)s"),
        "objection_answered": _("主持人答复 %(bidder)s 的异议：%(answer)s"),
        "record_drafted": _("开标记录表（第 %(version)s 版）已生成，请在场投标人确认。"),
        "record_confirmed": _("%(bidder)s 已签名确认开标记录表。"),
        "record_disagreed": _("%(bidder)s 对开标记录表提出不同意见：%(text)s"),
        "record_superseded": _("开标记录表第 %(version)s 版已作废。"),
        "record_published": _("开标记录表已公布。"),
        "custodial_fallback_requested": _("主持人申请以托管密钥解密 %(bidder)s 的投标文件：%(reason)s"),
        "custodial_share_released": _("托管人释放了份额（%(released)s / %(threshold)s）。"),
        "custodial_key_recovered": _("托管密钥已恢复。"),
        "custodial_recovery_failed": _("托管密钥恢复失败。"),
        "custodial_fallback_failed": _("以托管密钥解密 %(bidder)s 的投标文件失败：%(detail)s"),
        "unknown": _("事件：%(kind)s"),
    }


def _messages() -> dict:
    """What static/js/opening/room.js says, in the user's language."""
    return {
        "connecting": _("正在连接开标室……"),
        "connected": _("已连接"),
        "reconnecting": _("连接中断，正在重新连接……"),
        "closed_4400": _("连接因多次发送无效消息被关闭。请刷新页面。"),
        "closed_4401": _("登录已失效，请重新登录后进入开标室。"),
        "closed_4403": _("您无权进入本开标室。"),
        "closed_4404": _("本标段的开标室不存在。"),
        "sending": _("正在提交……"),
        "done": _("已完成。"),
        "refused": _("未能完成：%(detail)s"),
        "pending_resend": _("连接中断，恢复后将自动重新提交（不会重复执行）。"),
        "no_webcrypto": _("本浏览器不提供所需的加密功能（WebCrypto，需通过 HTTPS 访问平台），无法在浏览器中解密。请使用最新版浏览器，或使用投标工具。"),
        "confirm_start": _("确定开始解密？解密时限 %(minutes)s 分钟，从现在起计时。"),
        "confirm_abort": _("确定以签到不足为由结束本次开标？本标段将流标。"),
        "confirm_close_window": _("确定结束解密？未释放密钥的投标文件将按解密失败处理（视为撤销）。"),
        "confirm_finish": _("确定结束开标并进入评标？"),
        "confirm_fail": _("确定以有效投标不足为由使本标段流标？"),
        "confirm_publish": _("确定公布开标记录表？"),
        "confirm_draft": _("确定生成开标记录表？"),
        "reason_required": _("请写明原因。"),
        "text_required": _("请填写内容。"),
        "window_minutes_bad": _("解密时限应为 %(min)s 至 %(max)s 分钟的整数。"),
        "choose_key_file": _("请选择密钥文件并输入口令。"),
        "unlocking": _("正在解锁密钥文件……"),
        "wrong_passphrase": _("口令不正确。"),
        "key_file_bad": _("这不是有效的投标密钥文件：%(reason)s"),
        "wrong_recipient": _("这份密钥文件的解密公钥（指纹 %(file)s…）不是本投标文件密封时所用的（指纹 %(header)s…）。请选择密封时使用的密钥文件。"),
        "unwrapping": _("正在本机解开数据密钥……"),
        "unwrap_failed": _("无法解开数据密钥：%(reason)s"),
        "releasing": _("正在释放数据密钥……"),
        "released": _("数据密钥已释放，平台正在解密。"),
        "signing": _("正在用本单位签名密钥签名……"),
        "signed": _("已签名确认开标记录表。"),
        "yuan": _("%(amount)s 元"),
        "days": _("%(days)s 日历天"),
        "mismatch": _("大小写不一致，以大写为准"),
        "late": _("迟到"),
        "late_name": _("%(name)s（迟到）"),
        "own": _("本单位"),
        "nobody": _("无"),
        "no_objections": _("尚无异议。"),
        "awaiting_answer": _("待答复"),
        "answer": _("答复"),
        "answer_placeholder": _("答复内容"),
        "answered_by": _("%(name)s 答复（%(time)s）："),
        "raised_by": _("%(bidder)s（%(name)s，%(time)s）："),
        "via_custodial": _("托管密钥"),
        "objections_open": _("异议期开放中"),
        "objections_closed": _("异议期未开放"),
        "no_record": _("开标记录表尚未生成。"),
        "record_status_draft": _("待确认（第 %(version)s 版）"),
        "record_status_published": _("已公布（第 %(version)s 版）"),
        "record_confirmed": _("已签名确认"),
        "record_disagreed": _("提出不同意见"),
        "record_no_answer": _("尚未答复"),
        "window_not_started": _("主持人尚未开始解密"),
        "events": _event_messages(),
    }


def _labels() -> dict:
    return {
        "session": {value: str(label) for value, label in SessionState.choices},
        "status": {value: str(label) for value, label in DecryptionStatus.choices},
        "side": {value: str(label) for value, label in FailureSide.choices},
    }


@login_required
def room(request, lot_id: int):
    """The opening room of a lot: its live state comes over the WebSocket (room.js)."""
    session = selectors.session_of_lot(lot_id)
    if session is None or not can(request.user, "opening.view", session):
        raise Http404
    role = selectors.viewer_role(request.user, session)
    config = {
        "lot": session.lot_id,
        "ws_path": f"/ws/opening/{session.lot_id}/",
        "role": role,
        "organisation": request.user.organisation_id if role == selectors.ROLE_BIDDER else None,
        "window": {"default": session.window_minutes or DEFAULT_WINDOW_MINUTES, "min": MIN_WINDOW_MINUTES, "max": MAX_WINDOW_MINUTES},
        "min_bids": MIN_BIDS,
        "record_pdf_url": reverse("opening:record_pdf", args=[session.lot_id]),
        "messages": _messages(),
        "labels": _labels(),
    }
    return render(request, "opening/room.html", {
        "session": session, "lot": session.lot, "tender": session.lot.tender, "role": role, "config": config,
        "window": config["window"],
    })
