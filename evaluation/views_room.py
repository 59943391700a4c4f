"""The evaluation room page (/evaluation/lots/<lot_id>/room/). Thin: authorise with the rules, read
with the selectors; every change goes through the room's WebSocket commands (evaluation/commands.py),
which call the services. The live state comes over the socket (static/js/evaluation/room.js)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import can
from evaluation import selectors_room
from evaluation.models import MemberStatus, SessionState, StageKind, StageStatus

PLEDGE = gettext_lazy(
    "本人接受评标委员会的组建，郑重承诺：按照招标文件规定的评标标准和方法，客观、公正地履行职责，"
    "遵守职业道德，对所提出的评审意见承担个人责任；不私下接触投标人，不收受投标人、中介人、其他利害关系人的财物或者其他好处；"
    "不透露对投标文件的评审和比较、中标候选人的推荐情况以及与评标有关的其他情况；"
    "与投标人或招标人有利害关系的，主动申请回避。"
)


def _event_messages() -> dict[str, str]:
    """The event log's line per event kind (%(name)s takes the event's payload fields; %(member)s is
    the seat's label as the viewer may see it)."""
    return {
        "member.checked_in": _("%(member)s 已签到（%(checked_in)s / %(seats)s）。"),
        "member.recused": _("%(member)s 申请回避，其评审意见作废。"),
        "session.state": _("评标进入“%(state_label)s”。"),
        "chair.voted": _("推选组长：第 %(round)s 轮已投 %(voted)s / %(of)s 票。"),
        "chair.elected": _("%(member)s 当选组长（第 %(round)s 轮）。"),
        "chair.no_majority": _("第 %(round)s 轮推选无人过半数，进行第 %(next_round)s 轮推选。"),
        "chair.round": _("重新推选组长（第 %(round)s 轮）。"),
        "stage.opened": _("“%(stage_label)s”阶段开始。"),
        "stage.locked": _("组长锁定“%(stage_label)s”阶段，评审结果公开。"),
        "stage.reopened": _("组长重新开启“%(stage_label)s”阶段：%(reason)s"),
        "session.rejected_all": _("评标委员会否决所有投标：%(reason)s"),
        "bid.rejected": _("%(bidder)s 的投标被否决：%(reason)s"),
        "clarification.asked": _("评标委员会发出第 %(number)s 号澄清。"),
        "clarification.answered": _("第 %(number)s 号澄清已答复。"),
        "clarification.expired": _("第 %(number)s 号澄清已逾期未答复。"),
        "report.final": _("评标报告已定稿。"),
        "unknown": _("事件：%(kind)s"),
    }


def _messages() -> dict:
    return {
        "connecting": _("正在连接评标室……"),
        "connected": _("已连接"),
        "reconnecting": _("连接中断，正在重新连接……"),
        "closed_4400": _("连接因多次发送无效消息被关闭。请刷新页面。"),
        "closed_4401": _("登录已失效，请重新登录后进入评标室。"),
        "closed_4403": _("您无权进入本评标室，或现在不在评标时间内。"),
        "closed_4404": _("本标段的评标尚未开始。"),
        "sending": _("正在提交……"),
        "saved": _("已保存。"),
        "done": _("已完成。"),
        "refused": _("未能完成：%(detail)s"),
        "pending_resend": _("连接中断，恢复后将自动重新提交（不会重复执行）。"),
        "pledge_needed": _("请先阅读并勾选接受承诺书。"),
        "confirm_recuse": _("确定申请回避？您将退出评标委员会，已提交的评审意见作废。"),
        "confirm_lock": _("确定锁定“%(stage)s”阶段？锁定后评审结果向评标委员会公开，不能再修改（除非组长重新开启）。"),
        "confirm_reopen": _("确定重新开启“%(stage)s”阶段？其后各阶段将重置。"),
        "confirm_reject_all": _("确定否决所有投标？"),
        "reason_required": _("请写明原因。"),
        "fail_reason": _("不合格理由"),
        "outlier_reason": _("偏离说明"),
        "outlier_hint": _("此评分偏离评标委员会平均分超过允许范围，请填写偏离说明。"),
        "pass": _("合格"),
        "fail": _("不合格"),
        "not_yet": _("未评"),
        "yes": _("是"),
        "no": _("否"),
        "chair": _("组长"),
        "checked_in": _("已签到"),
        "not_checked_in": _("未签到"),
        "progress": _("%(done)s / %(total)s"),
        "pending_outliers": _("%(member)s：%(count)s 项偏离待说明"),
        "yuan": _("%(amount)s 元"),
        "tied": _("并列（需抽签决定）"),
        "abnormally_low": _("报价明显偏低（须先要求书面澄清，P21）"),
        "qualified": _("通过"),
        "not_qualified": _("未通过"),
        "average": _("平均"),
        "nothing": _("无"),
        "events": _event_messages(),
    }


def _labels() -> dict:
    return {
        "session": {value: str(label) for value, label in SessionState.choices},
        "stage": {value: str(label) for value, label in StageKind.choices},
        "stage_status": {value: str(label) for value, label in StageStatus.choices},
        "member_status": {value: str(label) for value, label in MemberStatus.choices},
    }


@login_required
def room(request, lot_id: int):
    """The evaluation room of a lot: for its panel (inside the session's window the socket lets them
    in) and, read-only, for centre staff and regulators."""
    session = selectors_room.session_of_lot(lot_id)
    if session is None or not can(request.user, "evaluation.room_view", session):
        raise Http404
    role = selectors_room.viewer_role(request.user, session)
    config = {
        "lot": session.lot_id,
        "ws_path": f"/ws/evaluation/{session.lot_id}/",
        "role": role,
        "messages": _messages(),
        "labels": _labels(),
    }
    return render(request, "evaluation/room.html", {
        "session": session, "lot": session.lot, "tender": session.lot.tender, "role": role, "config": config,
        "pledge": PLEDGE, "in_window": selectors_room.in_window(session),
    })
